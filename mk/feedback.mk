# Feedback tooling: the instructor's report and mutation run, the students'
# training plots, and the README's screenshots. Included by the Makefile.
.PHONY: report mutants train notebook screenshots

help::
	@echo "make report [OUT=grades]"
	@echo "                      after make grade (or otter, Gradescope): OUT/report.html (what the class"
	@echo "                      got wrong and who, by diagnosis; per-student sections; missing parts apart)"
	@echo "make mutants          grade the catalog's bugs and generated mutants (hidden and public); fails if a"
	@echo "                      bug goes uncaught or a mutant survives unjustified (catalog/mutants_survivors.toml)"
	@echo "make train [ARGS='--epochs 20'] [STRICT=1]"
	@echo "                      train your MLP on the bundled sample; plots in train-output/ (students)"
	@echo "make notebook [ARGS='--no-browser']"
	@echo "                      open assignment/mlp_backprop.ipynb in JupyterLab (as root: --allow-root)"
	@echo "make screenshots      regenerate the README's screenshots in docs/ (needs chromium)"

report:
	$(PYTHON) -m grader report $(OUT)

mutants:
	$(PYTHON) -m grader mutants -j $(JOBS)

# As the handout's (grader/templates/handout/Makefile): ARGS are the options of the command.
train:
	@$(PYTHON) -m assignment.train $(ARGS); status=$$?; if [ -n "$(STRICT)" ]; then exit $$status; fi

notebook:
	@root=""; if [ "$$(id -u)" = 0 ]; then root=--allow-root; \
		echo "make notebook: you are root (as in a container), so JupyterLab runs with --allow-root."; fi; \
	$(PYTHON) -m jupyterlab $$root $(ARGS) assignment/mlp_backprop.ipynb

screenshots:
	$(PYTHON) -m grader screenshots -j $(JOBS)
