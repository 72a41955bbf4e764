# Course platforms: the native Gradescope autograder, gradebooks, LMS export and the similarity
# report (grader/platforms/gradescope.py, grader/engine/grade.py, grader/instructor/export.py, grader/instructor/similarity.py).
GRADESCOPE ?= dist/gradescope.zip
HIDDEN_VISIBILITY ?= after_published
ROSTER ?=

.PHONY: gradescope gradebook canvas similarity

help::
	@echo "make gradescope [GRADESCOPE=dist/gradescope.zip] [HIDDEN_VISIBILITY=after_published] [LIMITS=...]"
	@echo "                [ALLOW_UNSANDBOXED=1]"
	@echo "                      build $(GRADESCOPE): the native Gradescope autograder (the kit's engine);"
	@echo "                      ALLOW_UNSANDBOXED=1 grades even where no sandbox works there (recorded in every result)"
	@echo "make gradebook [OUT=grades]"
	@echo "                      rebuild OUT/gradebook.csv from the results.json files in OUT"
	@echo "make canvas ROSTER=export.csv [OUT=grades] [ZEROS=1]"
	@echo "                      OUT/canvas.csv for Canvas's gradebook import; ROSTER: Canvas's gradebook"
	@echo "                      export, a GitHub Classroom roster, or columns submission,student_id"
	@echo "make similarity SUBMISSIONS='subs/*' [OUT=grades] [SIMILARITY_THRESHOLD=0.5]"
	@echo "                      OUT/similarity.html: pairs above the threshold in clusters, and each"
	@echo "                      submission's share of the reference and of the starter, part by part"

gradescope:
	$(PYTHON) -m grader gradescope build --out $(GRADESCOPE) --hidden-visibility $(HIDDEN_VISIBILITY) \
		$(if $(LIMITS),--limits '$(LIMITS)') $(if $(ALLOW_UNSANDBOXED),--allow-unsandboxed)

gradebook:
	$(PYTHON) -m grader gradebook $(OUT)

canvas:
	@test -n "$(ROSTER)" || { echo "make canvas needs ROSTER=export.csv (Canvas's gradebook export, a GitHub Classroom roster, or columns submission, student_id)"; exit 2; }
	$(PYTHON) -m grader export --canvas $(ROSTER) $(OUT) $(if $(ZEROS),--zeros)

similarity:
	@test -n "$(SUBMISSIONS)" || { echo "make similarity needs SUBMISSIONS='subs/*' (the graded folders or zips)"; exit 2; }
	$(PYTHON) -m grader similarity $(SUBMISSIONS) --out $(OUT) \
		$(if $(SIMILARITY_THRESHOLD),--threshold $(SIMILARITY_THRESHOLD))
