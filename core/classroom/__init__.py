"""The class as one experiment (issue 35): a shared run store that every joined session publishes
to, so a lecturer sees every student's run, and a run survives its worker's death.

No Streamlit here (``core/ui/classroom.py`` draws it):
  codes.py    class codes, nicknames (text only), join attempts rate-limited
  store.py    THE database layer (SQLAlchemy Core): SQLite by default, PostgreSQL by URL
  publish.py  a session's run summary and checkpoint, written by one background thread per
              process through a bounded queue, so a slow or dead store never stalls a frame
  view.py     what the lecturer's page shows: tables, small multiples, sweeps, links
"""
