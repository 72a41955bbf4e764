# The MLP and backpropagation assignment kit. `make help` lists the targets.
PYTHON ?= python3
JOBS ?= 2
OUT ?= grades
SUBMISSIONS ?=
LIMITS ?=

.PHONY: help install install-system test test-fast assignment check-assignment check grade data bench

help::
	@echo "make help             this list"
	@echo "make install          install the pinned Python packages (requirements.txt)"
	@echo "make install-system   Debian packages used by the full test run (needs root and apt-get)"
	@echo "make test             the kit's own tests (what CI runs)"
	@echo "make test-fast        the unit-level tests alone (the files in TEST_FAST): no gradings, under a minute"
	@echo "make assignment       regenerate assignment/ from solutions/"
	@echo "make check [ARGS='mlp -v'] [STRICT=1]"
	@echo "                      run the public tests on your assignment/ (students; STRICT=1: a failure fails make)"
	@echo "make grade [SUBMISSIONS='a/ b.zip'] [JOBS=2] [OUT=grades] [LIMITS='{\"multiple\": 5}']"
	@echo "                      grade submissions (default: the bundled examples; LIMITS: docs/threat-model.md);"
	@echo "                      ALLOW_UNSANDBOXED=1 grades where no sandbox works (trusted batches only)"
	@echo "make data             download the full MNIST into data/mnist/ (needs the internet)"
	@echo "make bench            time grading and the reference MLP"
	@echo "PYTHON=python3        the Python every target runs (any target)"

install:
	$(PYTHON) -m pip install -r requirements.txt

# Fashion-MNIST for the loader's test; a headless Chromium (and a font) to render
# make report's page in its test and for make screenshots.
install-system:
	apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist
	apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core

test:
	$(PYTHON) -m ruff check --no-cache .
	$(PYTHON) -m pytest -q -n 2 --dist loadgroup --no-loadscope-reorder --durations=25

# The edit-test loop: the files whose tests grade nothing (no judge, no batch, no make check run), under a
# minute on 2 cores. make test runs them too; tests/test_fast_selection.py keeps this list honest.
TEST_FAST = tests/test_layering.py tests/test_protocol_fast.py tests/test_gradient_check.py tests/test_clauses.py \
	tests/test_oracle.py tests/test_suites.py tests/test_scratch.py tests/test_datasets.py \
	tests/test_assignment_generation.py tests/test_submission.py tests/test_export_similarity.py \
	tests/test_fast_selection.py

test-fast:
	$(PYTHON) -m pytest -q -n 2 $(TEST_FAST)

assignment:
	$(PYTHON) -m grader assign

# As in the handout: the table is the last line (STRICT=1: a failing public test fails make).
check:
	@$(PYTHON) -m assignment.check $(ARGS); status=$$?; if [ -n "$(STRICT)" ]; then exit $$status; fi

check-assignment:
	$(PYTHON) -m grader assign --check

grade:
	$(PYTHON) -m grader grade --out $(OUT) -j $(JOBS) $(if $(LIMITS),--limits '$(LIMITS)') $(if $(ALLOW_UNSANDBOXED),--allow-unsandboxed) -- $(SUBMISSIONS)

data:
	$(PYTHON) data/fetch_mnist.py --dest data/mnist

bench:
	$(PYTHON) tests/bench/bench_grading.py

# Targets of the otter, handout and feedback tooling live in mk/*.mk.
include $(wildcard mk/*.mk)
