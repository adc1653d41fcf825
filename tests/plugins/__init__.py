"""Extensions that tests load by spec or entry point, as a user's package would provide."""
