-- Lands one scanned batch atomically (the caller wraps it in a transaction). Objects landed
-- before under the same key (a re-upload) are replaced and their dead letters resolved.
-- Inputs: temp tables batch_objects(path, object_key, etag, size_bytes, delivery_hour,
-- parse_path, delivered_at), scan_result (landing/scan_objects.sql), batch_damages (python path).
update ops.dead_letter_events set resolved_at = $now
where resolved_at is null and object_key in (select object_key from batch_objects);

delete from raw.candidate_events where object_key in (select object_key from batch_objects);
delete from ops.object_event_counts where object_key in (select object_key from batch_objects);
delete from ops.landed_objects where object_key in (select object_key from batch_objects);

insert into raw.candidate_events
select
    o.object_key,
    c.event_id,
    c.source,
    c.detail_type,
    c.envelope_time,
    c.account,
    c.region,
    c.resources,
    c.detail,
    $now,
    o.delivered_at
from (select path, unnest(candidate_events) as c from scan_result) s
join batch_objects o using (path);

insert into ops.object_event_counts
select o.object_key, s.source, s.detail_type, s.events, s.candidates
from scan_result s
join batch_objects o using (path);

insert into ops.dead_letter_events
select o.object_key, o.etag, d.record_index, d.position, d.reason, d.raw_excerpt, $now, null
from batch_damages d
join batch_objects o using (path);

-- deployment signals that lack the fields their kind needs, or whose change time is
-- implausible for their delivery (ops.change_time_problem)
insert into ops.dead_letter_events
select o.object_key, o.etag, null, null, e.problem, left(e.detail::varchar, 500), $now, null
from staging.stg_deployment_events e
join batch_objects o on o.object_key = e.source_object
where e.problem is not null;

-- GitLab, Opsgenie and ECS circuit-breaker events that lack the fields their DORA key needs
insert into ops.dead_letter_events
select o.object_key, o.etag, null, null, e.problem, left(e.detail::varchar, 500), $now, null
from staging.stg_dora_key_problems e
join batch_objects o on o.object_key = e.source_object;

insert into ops.landed_objects
select
    o.object_key,
    o.etag,
    o.size_bytes,
    o.delivery_hour,
    cast(timezone('UTC', o.delivery_hour) as date),
    $now,
    o.parse_path,
    coalesce((select sum(s.events) from scan_result s where s.path = o.path), 0),
    coalesce((select sum(s.candidates) from scan_result s where s.path = o.path), 0),
    (select count(*) from ops.dead_letter_events d
     where d.object_key = o.object_key and d.resolved_at is null)
from batch_objects o;
