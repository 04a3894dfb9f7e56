"""Work that spans apps: each module is one use case that calls the services of two or more apps
below it in one transaction, so a reader follows it from the view to the database by imports.

- publish: publishing a match run (connections and plans, the self-match requests it made
  impossible, notices)
- program_copy: copying a program for its next cohort (settings of every app)
- program_setup: questions and training modules, whose changes re-check who is ready
- home: the home page's summary for each role
- sign_in: single sign-on finds or makes the account of a directory person (accounts + people)
- nudges, periodic: the periodic schedule (request expiry, nudges and digests, surveys due)

`views.py`, `urls.py` and `api.py` serve the pages and endpoints of these use cases, under the
same addresses and names as the rest of their app's pages.
"""
