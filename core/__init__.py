"""Core of the teaching dashboard: models, trainers, data, metrics and figure builders.

Nothing in here imports Streamlit except the UI glue, ``core.ui``; everything else is
plain Python + numpy + torch and is tested without a browser.
"""
