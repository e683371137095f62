"""One service function per use case; every entry point (admin API, SMS, Telegram, console) calls these."""
