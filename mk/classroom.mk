# GitHub Classroom: the students' repositories fetched onto this host and graded here
# (grader/platforms/classroom.py; the workflow in their repositories runs the public checks only).
REPOS ?=
DEADLINE ?=
URL_TEMPLATE ?=
SUBS ?= subs

.PHONY: classroom

help::
	@echo "make classroom REPOS=grades.csv [DEADLINE=2026-12-01T23:59:00+01:00] [SUBS=subs] [URL_TEMPLATE=...]"
	@echo "                      clone or update the students' GitHub Classroom repositories into SUBS/"
	@echo "                      (the commit before DEADLINE), then: make grade SUBMISSIONS='subs/*'"

classroom:
	@test -n "$(REPOS)" || { echo "make classroom needs REPOS=FILE: the assignment's grades CSV from GitHub Classroom, a classroom roster with URL_TEMPLATE='https://github.com/ORG/ASSIGNMENT-{github_username}', or a file of repository URLs"; exit 2; }
	$(PYTHON) -m grader classroom fetch '$(REPOS)' --out '$(SUBS)' $(if $(DEADLINE),--deadline '$(DEADLINE)') \
		$(if $(URL_TEMPLATE),--url-template '$(URL_TEMPLATE)')
