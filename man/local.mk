# Manual pages.  tests/unit/check-docs.sh checks them against the code
# (every option, top-level key, plugin and plugin setting is documented).
dist_man_MANS = man/snowsignal.8 man/snowsignal.conf.5 man/snowsignal-plugin.7
