"""Calls placed by the API and by <Dial> (issue 16 §2): the app server's side of CPaaS calls."""
