# The replication suite's entry points. Every target is a thin wrapper around `go` commands; see
# README.md. The data directory is $V4DATA, else data/V4_compact_models (filled by `make data`).

GO        ?= go
REPLICATE := $(GO) run ./harness/cmd/replicate
PROFILE   ?= auto
FUZZTIME  ?= 60s
FUZZMINRATE ?= 1000

.PHONY: figures test check golden golden-full data data-full verify bench fuzz clean

# Run every experiment (quick profile unless the full data is present), write out/ and figures/,
# check the goldens and write REPRODUCE.md. Fetches the quick profile's data first if needed.
figures: data
	$(REPLICATE) run -profile $(PROFILE)

# Vet and run every test, including the golden check of every experiment on the quick profile.
# internal/nn's and internal/mapping's tests run every kernel set the CPU supports; the purego
# build (no assembly at all) is vetted and its kernel tests run too.
test: data
	$(GO) vet ./...
	$(GO) vet -tags purego ./internal/nn ./internal/mapping
	$(GO) test -timeout 30m ./...
	$(GO) test -tags purego -run 'Kernel|Sgemm|Dot' ./internal/nn ./internal/mapping

# Compare the last run's results (out/) with the goldens.
check:
	$(REPLICATE) check

# Rewrite the quick-profile goldens from a fresh run (review `git diff golden/` before committing).
golden: data
	$(GO) test ./experiments -run TestGoldens -update -note "quick profile; regenerate with make golden"

# Rewrite the full-profile goldens from a full run on the data present.
golden-full:
	$(REPLICATE) run -profile full -no-check
	$(REPLICATE) check -update -note "full profile, computed from the data directory named by computed_from"

# Download (or verify and complete) the quick profile's data: a fixed set of files that every
# checkout, including the local data copy, has. Files already present and valid are skipped.
data:
	$(REPLICATE) data fetch -profile quick

# Download every data file of the upstream repository.
data-full:
	$(REPLICATE) data fetch -profile full

# Check every present data file against the pinned manifest.
verify:
	$(REPLICATE) data verify

# Measure the README's speed table in one sitting (the suite's benchmarks, the tuned PyTorch peer,
# numpy's SGEMM; about 5 minutes) and write it into README.md. Run it on an idle machine.
bench:
	$(GO) run ./harness/cmd/benchtable -readme README.md

# Run every fuzz target for FUZZTIME each, one at a time; print a table of each target's
# executions per second and new coverage, and fail a target that crashes or runs fewer than
# FUZZMINRATE executions per second (internal/cmd/fuzzall).
fuzz:
	$(GO) run ./internal/cmd/fuzzall -fuzztime $(FUZZTIME) -min-rate $(FUZZMINRATE) ./...

clean:
	rm -rf out .cache
