"""``python -m core.digits``: retrain the shared digit classifier and write pretrained/digits_classifier.pt."""
from core.digits import main

main()
