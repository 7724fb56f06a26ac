"""Periodic jobs: the scheduler that ticks the scheduled work (and the incidents' periodic work)."""
