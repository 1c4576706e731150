"""`bex new`: generate a service from the templates shipped with bex, through copier.

The stages are: choose (`options.py`: parameters, defaults from the decision matrix,
impossible combinations), place (`source.py`: the packaged template as a versioned git
repository, so `copier update` works later), render (copier).
"""
