"""The ``newsbot`` command line: run, fetch, search, reindex, feeds, extract, summarize. Thin:
each subcommand parses its arguments and calls the parts."""
