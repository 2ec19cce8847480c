"""The async client and its resources."""
