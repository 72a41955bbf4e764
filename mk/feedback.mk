# Feedback tooling: the instructor's report and mutation run, the students'
# training plots, and the README's screenshots. Included by the Makefile.
TRAIN_ARGS ?=

.PHONY: report mutants train screenshots

help::
	@echo "make report [OUT=grades]"
	@echo "                      after make grade (or otter, Gradescope): OUT/report.html (what the class"
	@echo "                      got wrong and who, by diagnosis; per-student sections; missing parts apart)"
	@echo "make mutants          grade the catalog's bugs and generated mutants (hidden and public); fails if a"
	@echo "                      bug goes uncaught or a mutant survives unjustified (catalog/mutants_survivors.toml)"
	@echo "make train [TRAIN_ARGS='--epochs 20']"
	@echo "                      train your MLP on the bundled sample; plots in train-output/ (students)"
	@echo "make screenshots      regenerate the README's screenshots in docs/ (needs chromium)"

report:
	$(PYTHON) -m grader report $(OUT)

mutants:
	$(PYTHON) -m grader mutants -j $(JOBS)

train:
	$(PYTHON) -m assignment.train $(TRAIN_ARGS)

screenshots:
	$(PYTHON) -m grader screenshots -j $(JOBS)
