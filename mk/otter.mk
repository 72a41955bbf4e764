# otter-grader, the student's submission, and the release (grader/platforms/otter/, grader/authoring/release.py).
AUTOGRADER ?= dist/autograder.zip
OTTER_OUT ?= grades-otter

.PHONY: otter otter-grade submission dist release-check

help::
	@echo "make otter [AUTOGRADER=dist/autograder.zip] [HIDDEN_VISIBILITY=after_published]"
	@echo "                      build the zip for otter-grader (otter run, Gradescope)"
	@echo "make otter-grade [SUBMISSIONS='a/ b.zip'] [JOBS=2] [OTTER_OUT=grades-otter]"
	@echo "                      grade submissions with otter run (default: the bundled examples)"
	@echo "make submission       write submission.zip from assignment/ (what students upload)"
	@echo "make dist             build dist/handout (students) and dist/instructor, with the release check"
	@echo "make release-check    check dist/handout for solution and hidden-test code"

otter:
	$(PYTHON) -m grader otter build --out $(AUTOGRADER) --hidden-visibility $(or $(HIDDEN_VISIBILITY),after_published)

otter-grade: otter
	$(PYTHON) -m grader otter run -a $(AUTOGRADER) --out $(OTTER_OUT) -j $(JOBS) \
		$(if $(SUBMISSIONS),$(SUBMISSIONS),solutions assignment grader/examples/partial)

submission:
	$(PYTHON) -m assignment.submit

dist:
	$(PYTHON) -m grader release dist --out dist

release-check:
	$(PYTHON) -m grader release check dist/handout
