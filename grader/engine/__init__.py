"""The engine: grade a batch of submissions (grade), one part of one submission in a judge
process (judge), with student code in the sandbox (grader.sandbox). It depends on the sandbox,
the registry (grader.parts), the feedback code (tooling/) and the reference (solutions/)."""
