# See README.md. Every target is a thin wrapper around go commands.
GO ?= go

.PHONY: test
test:
	$(GO) vet ./...
	$(GO) test ./...
