# The MLP and backpropagation assignment kit: all of its targets, in this one file. `make help` lists them.
# The sections, in order: the variables; make help; setting up; the students' loop; grading; course
# platforms; otter; the handout and the release; the kit's own tests.
# (assignment/Makefile, the students' own, is generated from grader/templates/handout/assignment-Makefile.)

# -- The variables: each default is set here, once. Override any on the command line: make grade JOBS=4 --
# Any target: the Python that runs.
PYTHON ?= python3
# Grading: make grade's (JOBS also otter-grade, mutants, screenshots; OUT the targets that read the results;
# SUBMISSIONS otter-grade and similarity; LIMITS gradescope).
JOBS ?= 2
OUT ?= grades
SUBMISSIONS ?=
LIMITS ?=
# Course platforms: the Gradescope zip and when students see the hidden tests (make otter's too),
# Canvas's roster, and GitHub Classroom's repositories.
GRADESCOPE ?= dist/gradescope.zip
HIDDEN_VISIBILITY ?= after_published
ROSTER ?=
REPOS ?=
DEADLINE ?=
URL_TEMPLATE ?=
SUBS ?= subs
# otter-grader: its zip and its results folder.
AUTOGRADER ?= dist/autograder.zip
OTTER_OUT ?= grades-otter
# Read where given, with no default: ARGS and STRICT (check, train; ARGS: notebook), ALLOW_UNSANDBOXED
# (grade, gradescope), ZEROS (canvas), SIMILARITY_THRESHOLD (similarity). TEST_FAST is set with its target,
# in the kit's own tests below.

# -- make help: the first target, so also what a bare `make` runs ------------------------------------------
.PHONY: help

help:
	@echo "make help             this list"
	@echo "PYTHON=python3        the Python every target runs (any target)"
	@echo "make install          install the pinned Python packages (requirements.txt)"
	@echo "make install-system   Debian packages used by the full test run (needs root and apt-get)"
	@echo "make data             download the full MNIST into data/mnist/ (needs the internet)"
	@echo "make check [ARGS='mlp -v'] [STRICT=1]"
	@echo "                      run the public tests on your assignment/ (students; STRICT=1: a failure fails make)"
	@echo "make train [ARGS='--epochs 20'] [STRICT=1]"
	@echo "                      train your MLP on the bundled sample; plots in train-output/ (students)"
	@echo "make notebook [ARGS='--no-browser']"
	@echo "                      open assignment/mlp_backprop.ipynb in JupyterLab (as root: --allow-root)"
	@echo "make submission       write submission.zip from assignment/ (what students upload)"
	@echo "make grade [SUBMISSIONS='a/ b.zip'] [JOBS=2] [OUT=grades] [LIMITS='{\"multiple\": 5}']"
	@echo "                      grade submissions (default: the bundled examples; LIMITS: docs/threat-model.md);"
	@echo "                      ALLOW_UNSANDBOXED=1 grades where no sandbox works (trusted batches only)"
	@echo "make report [OUT=grades]"
	@echo "                      after make grade (or otter, Gradescope): OUT/report.html (what the class"
	@echo "                      got wrong and who, by diagnosis; per-student sections; missing parts apart)"
	@echo "make gradebook [OUT=grades]"
	@echo "                      rebuild OUT/gradebook.csv from the results.json files in OUT"
	@echo "make similarity SUBMISSIONS='subs/*' [OUT=grades] [SIMILARITY_THRESHOLD=0.5]"
	@echo "                      OUT/similarity.html: pairs above the threshold in clusters, and each"
	@echo "                      submission's share of the reference and of the starter, part by part"
	@echo "make gradescope [GRADESCOPE=dist/gradescope.zip] [HIDDEN_VISIBILITY=after_published] [LIMITS=...]"
	@echo "                [ALLOW_UNSANDBOXED=1]"
	@echo "                      build $(GRADESCOPE): the native Gradescope autograder (the kit's engine);"
	@echo "                      ALLOW_UNSANDBOXED=1 grades even where no sandbox works there (recorded in every result)"
	@echo "make canvas ROSTER=export.csv [OUT=grades] [ZEROS=1]"
	@echo "                      OUT/canvas.csv for Canvas's gradebook import; ROSTER: Canvas's gradebook"
	@echo "                      export, a GitHub Classroom roster, or columns submission,student_id"
	@echo "make classroom REPOS=grades.csv [DEADLINE=2026-12-01T23:59:00+01:00] [SUBS=subs] [URL_TEMPLATE=...]"
	@echo "                      clone or update the students' GitHub Classroom repositories into SUBS/"
	@echo "                      (the commit before DEADLINE), then: make grade SUBMISSIONS='subs/*'"
	@echo "make otter [AUTOGRADER=dist/autograder.zip] [HIDDEN_VISIBILITY=after_published]"
	@echo "                      build the zip for otter-grader (otter run, Gradescope)"
	@echo "make otter-grade [SUBMISSIONS='a/ b.zip'] [JOBS=2] [OTTER_OUT=grades-otter]"
	@echo "                      grade submissions with otter run (default: the bundled examples)"
	@echo "make assignment       regenerate assignment/ from solutions/"
	@echo "make dist             build dist/handout (students) and dist/instructor, with the release check"
	@echo "make check-assignment check that assignment/ is what make assignment would write"
	@echo "make release-check    check dist/handout for solution and hidden-test code"
	@echo "make screenshots      regenerate the README's screenshots in docs/ (needs chromium)"
	@echo "make test             the kit's own tests (what CI runs)"
	@echo "make test-fast        the unit-level tests alone (the files in TEST_FAST): no gradings, under a minute"
	@echo "make mutants          grade the catalog's bugs and generated mutants (hidden and public); fails if a"
	@echo "                      bug goes uncaught or a mutant survives unjustified (catalog/mutants_survivors.toml),"
	@echo "                      or a bug costs more than 2 points beyond its function's tests (kept in OUT/mutants)"
	@echo "make bench            time grading and the reference MLP"

# -- Setting up ------------------------------------------------------------------------------------------
.PHONY: install install-system data

install:
	$(PYTHON) -m pip install -r requirements.txt

# Fashion-MNIST for the loader's test; a headless Chromium (and a font) to render
# make report's page in its test and for make screenshots.
install-system:
	apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist
	apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core

data:
	$(PYTHON) data/fetch_mnist.py --dest data/mnist

# -- The students' loop: as in the handout's Makefile (grader/templates/handout/Makefile) ----------------
# ARGS are the options of the command; STRICT=1: a failure fails make (else the table is the last line).
.PHONY: check train notebook submission

check:
	@$(PYTHON) -m assignment.check $(ARGS); status=$$?; if [ -n "$(STRICT)" ]; then exit $$status; fi

train:
	@$(PYTHON) -m assignment.train $(ARGS); status=$$?; if [ -n "$(STRICT)" ]; then exit $$status; fi

notebook:
	@root=""; if [ "$$(id -u)" = 0 ]; then root=--allow-root; \
		echo "make notebook: you are root (as in a container), so JupyterLab runs with --allow-root."; fi; \
	$(PYTHON) -m jupyterlab $$root $(ARGS) assignment/mlp_backprop.ipynb

submission:
	$(PYTHON) -m assignment.submit

# -- Grading: a batch on this host, then what is read from its results in OUT ----------------------------
# (grader/engine/grade.py, grader/instructor/report.py, grader/instructor/similarity.py)
.PHONY: grade report gradebook similarity

grade:
	$(PYTHON) -m grader grade --out $(OUT) -j $(JOBS) $(if $(LIMITS),--limits '$(LIMITS)') $(if $(ALLOW_UNSANDBOXED),--allow-unsandboxed) -- $(SUBMISSIONS)

report:
	$(PYTHON) -m grader report $(OUT)

gradebook:
	$(PYTHON) -m grader gradebook $(OUT)

similarity:
	@test -n "$(SUBMISSIONS)" || { echo "make similarity needs SUBMISSIONS='subs/*' (the graded folders or zips)"; exit 2; }
	$(PYTHON) -m grader similarity $(SUBMISSIONS) --out $(OUT) \
		$(if $(SIMILARITY_THRESHOLD),--threshold $(SIMILARITY_THRESHOLD))

# -- Course platforms: the native Gradescope autograder, Canvas's gradebook, GitHub Classroom -------------
# (grader/platforms/gradescope.py, grader/instructor/export.py, grader/platforms/classroom.py; the workflow
# in the students' Classroom repositories runs the public checks only, the grading happens here.)
.PHONY: gradescope canvas classroom

gradescope:
	$(PYTHON) -m grader gradescope build --out $(GRADESCOPE) --hidden-visibility $(HIDDEN_VISIBILITY) \
		$(if $(LIMITS),--limits '$(LIMITS)') $(if $(ALLOW_UNSANDBOXED),--allow-unsandboxed)

canvas:
	@test -n "$(ROSTER)" || { echo "make canvas needs ROSTER=export.csv (Canvas's gradebook export, a GitHub Classroom roster, or columns submission, student_id)"; exit 2; }
	$(PYTHON) -m grader export --canvas $(ROSTER) $(OUT) $(if $(ZEROS),--zeros)

classroom:
	@test -n "$(REPOS)" || { echo "make classroom needs REPOS=FILE: the assignment's grades CSV from GitHub Classroom, a classroom roster with URL_TEMPLATE='https://github.com/ORG/ASSIGNMENT-{github_username}', or a file of repository URLs"; exit 2; }
	$(PYTHON) -m grader classroom fetch '$(REPOS)' --out '$(SUBS)' $(if $(DEADLINE),--deadline '$(DEADLINE)') \
		$(if $(URL_TEMPLATE),--url-template '$(URL_TEMPLATE)')

# -- otter-grader: its autograder zip, and a batch graded with otter run (grader/platforms/otter/) --------
.PHONY: otter otter-grade

otter:
	$(PYTHON) -m grader otter build --out $(AUTOGRADER) --hidden-visibility $(HIDDEN_VISIBILITY)

otter-grade: otter
	$(PYTHON) -m grader otter run -a $(AUTOGRADER) --out $(OTTER_OUT) -j $(JOBS) \
		$(if $(SUBMISSIONS),$(SUBMISSIONS),solutions assignment grader/examples/partial)

# -- The handout and the release: assignment/ from solutions/, dist/, the README's screenshots -----------
# (grader/authoring/assign.py, grader/authoring/release.py)
.PHONY: assignment check-assignment dist release-check screenshots

assignment:
	$(PYTHON) -m grader assign

check-assignment:
	$(PYTHON) -m grader assign --check

dist:
	$(PYTHON) -m grader release dist --out dist

release-check:
	$(PYTHON) -m grader release check dist/handout

screenshots:
	$(PYTHON) -m grader screenshots -j $(JOBS)

# -- The kit's own tests: what CI runs, the fast subset, the mutation run, the benchmarks ------------------
.PHONY: test test-fast mutants bench

test:
	$(PYTHON) -m ruff check --no-cache .
	$(PYTHON) -m pytest -q -n 2 --dist loadgroup --no-loadscope-reorder --durations=25

# The edit-test loop: the files whose tests grade nothing (no judge, no batch, no make check run), under a
# minute on 2 cores. make test runs them too; tests/test_fast_selection.py keeps this list honest.
TEST_FAST = tests/test_layering.py tests/test_protocol_fast.py tests/test_gradient_check.py tests/test_clauses.py \
	tests/test_oracle.py tests/test_suites.py tests/test_scratch.py tests/test_datasets.py \
	tests/test_assignment_generation.py tests/test_submission.py tests/test_export_similarity.py \
	tests/test_fast_selection.py tests/test_where_to_change.py tests/test_results.py \
	tests/test_allowlist.py

test-fast:
	$(PYTHON) -m pytest -q -n 2 $(TEST_FAST)

# The grades are kept in $(OUT)/mutants, where the slip rule (a bug costs once) is checked on them too.
mutants:
	$(PYTHON) -m grader mutants -j $(JOBS) --out $(OUT)/mutants; status=$$?; \
	$(PYTHON) -m grader slips $(OUT)/mutants || status=1; exit $$status

bench:
	$(PYTHON) tests/bench/bench_grading.py
