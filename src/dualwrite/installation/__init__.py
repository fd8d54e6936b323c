"""Installation-wide concerns, above every tenant: its operators and where data stores live."""
