"""The licence subsystem: manager, persisted state, the licence server's protocol."""
