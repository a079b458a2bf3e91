"""Sign-in: passwords, page sessions, API tokens and the roles of members in their workspace."""
