"""The class as one experiment (issue 35): a shared run store that every joined session publishes
to, so a lecturer sees every student's run, and a run survives its worker's death.

No Streamlit here (``core/ui/classroom.py`` draws it):
  codes.py    class codes, nicknames (text only), the join limit's figures
  store.py    THE database layer (SQLAlchemy Core): SQLite by default, PostgreSQL by URL
  access.py   in the store, so across workers: a live page's hold on its run (a copied address
              does not take it over) and the join limit
  publish.py  a session's run summary and checkpoint, written by one background thread per
              process through a bounded queue, so a slow or dead store never stalls a frame
  view.py     what the lecturer's page shows: tables, small multiples, sweeps, links
"""
