"""Accounts: organizations (universities, enterprises, offices), colleges, users and roles."""
