-- The code identity a deployment put out, where its event says: a Lambda's codeSha256 (the
-- same code deployed again has the same value, which is how Datadog's DORA product sees a
-- rollback). ECS deployment events name no task definition, and kubernetes-event-exporter
-- events carry neither the image nor the revision: NULL for them.
alter table marts.fct_deployments add column if not exists version varchar;
