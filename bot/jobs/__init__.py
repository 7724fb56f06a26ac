"""Periodic jobs: the scheduler that ticks the scheduled work (and the incidents' periodic work).

Beside the transports: may import services (and Slack's client to post); never storage directly.
"""
