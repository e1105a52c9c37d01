"""dora4_pipeline: DORA deployment frequency from an AWS organisation's EventBridge archive."""
