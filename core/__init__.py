"""The Waitlist domain: models, pure rules and one service function per use case."""
