"""The review engine over the analyzers, the specialist and the renderers: the pipeline that turns a change
into a Review (coverage, findings, the gate), the local (CLI) review, and accepted risks."""
