# (owned by its part; see Makefile.am)
