"""GitHub side of the App, on PyGithub.

auth.py       App JWT (RS256) and the installation-token cache
retry.py      counting GithubRetry, GitHubError (the only error that leaves this package)
transport.py  authenticated, counted, retried requests for one installation; careful writes
conditional.py  ETag cache: repeated GETs become conditional requests (free 304s)
client.py     GitHubGateway: the PR, its diff, files, configs, permissions, comments, deliveries
reads.py      GraphQL queries for batched reads; a diff rebuilt from the files API
repo_view.py  GitHubRepo, the RepoView of one commit
checks.py     the `Scalability review` check run
publish.py    one PR review per run with inline comments and markers (re-exports checks)
threads.py    fixed findings close their review threads (GraphQL resolveReviewThread + a reply)
values.py     plain values returned to workflow steps
"""
