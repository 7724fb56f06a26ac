"""The seed file: its schema, validation with located messages, and conversion to core values.

May import ``bot.core`` only.
"""
