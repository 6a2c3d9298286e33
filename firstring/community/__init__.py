"""The help center's community: customers signed in by e-mail link, questions and answers, moderation."""
