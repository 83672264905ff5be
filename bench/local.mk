# Benchmark tools (bench/README): a stamped PVA-search sender, a receiver
# that reports delivery and latency, a capture-ring latency probe, a floor
# relay (the least a relay can do per packet) and an allocation counter.
# Not built by `make` or `make check`: `make bench` builds them, and
# bench/sweep.sh runs them.
SS_BENCH_TOOLS = \
	bench/ss-bench-send \
	bench/ss-bench-recv \
	bench/ss-ring-probe \
	bench/ss-bench-floor
EXTRA_PROGRAMS = $(SS_BENCH_TOOLS)
EXTRA_LTLIBRARIES = bench/malloc-count.la

bench_ss_bench_send_SOURCES = bench/ss-bench-send.c bench/bench-wire.h
bench_ss_bench_recv_SOURCES = bench/ss-bench-recv.c bench/bench-wire.h
bench_ss_ring_probe_SOURCES = bench/ss-ring-probe.c bench/bench-wire.h
bench_ss_bench_floor_SOURCES = bench/ss-bench-floor.c

# An LD_PRELOAD module: -rpath makes libtool build it shared although it is
# never installed.
bench_malloc_count_la_SOURCES = bench/malloc-count.c
bench_malloc_count_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
bench_malloc_count_la_LIBADD = -ldl

.PHONY: bench
bench: $(SS_BENCH_TOOLS) bench/malloc-count.la snowsignal$(EXEEXT) $(plugin_LTLIBRARIES)

CLEANFILES += $(SS_BENCH_TOOLS) bench/malloc-count.la
EXTRA_DIST += bench/README bench/RESULTS.md bench/lib.sh bench/sweep.sh bench/stages.sh \
	bench/allocs.sh bench/ring-latency.sh bench/qdisc-bypass.sh bench/pva-chain.conf \
	bench/metrics-idle.sh \
	bench/rss.sh
