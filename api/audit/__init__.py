"""The auditor's tools: exports and bundles, the offline and live audit, and its saved state."""
