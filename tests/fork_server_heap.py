"""Imported last by the tests' fork server (tests/launcher.py PRELOAD), and only there.

Freezing the preloaded heap (``gc.freeze``) leaves it out of every collection in the forks: the
full collection hookd runs once started up (``gc_tuning.settle``) then scans only what the fork
created, instead of writing to every object of the ~1,400 modules (and copying each page).
"""

import gc

gc.freeze()
