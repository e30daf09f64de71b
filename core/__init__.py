"""Core of the teaching dashboard: models, trainers, data, metrics and figure builders.

Nothing in here imports Streamlit except the UI glue, ``core.ui``; everything else is
plain Python + numpy + torch and is tested without a browser.
"""
import os

# Must happen before torch loads its OpenMP runtime. ``torch.set_num_threads`` only changes the
# calling thread's OpenMP setting, and Streamlit runs every script run (and we run training) in
# fresh threads, which would otherwise start 2+ OpenMP workers per op: on a busy 2-core server
# those spin-wait against each other and a step took 100 ms instead of 0.5 ms. The models here
# are tiny, so one thread per trainer is also simply the fastest.
_threads = os.environ.get("DASH_TORCH_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", _threads)
os.environ.setdefault("MKL_NUM_THREADS", _threads)
