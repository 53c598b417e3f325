-- Application-shaped data for the backup tests and benchmark: :scale users, each with a
-- workspace, projects and memberships; uuids, text, jsonb metadata and timestamps. psql variables:
-- scale (users) and projects_per_user.
insert into auth.users (id, email, raw_user_meta_data, created_at)
select gen_random_uuid(),
       'user' || g || '@example.com',
       jsonb_build_object('full_name', 'User ' || g, 'locale', (array['en', 'de', 'fr', 'es'])[1 + g % 4],
                          'plan', (array['free', 'pro', 'team'])[1 + g % 3], 'signup_source', md5(g::text),
                          'preferences', jsonb_build_object('theme', (array['dark', 'light'])[1 + g % 2], 'digest', g % 7 = 0)),
       timestamptz '2025-01-01' + make_interval(secs => g * 37)
from generate_series(1, :scale) g;

insert into public.users (id, email, clerk_id, full_name, created_at, updated_at)
select id, email, 'user_' || md5(id::text), raw_user_meta_data ->> 'full_name', created_at, created_at + interval '1 day'
from auth.users;

insert into public.workspaces (id, name, owner_id, created_at)
select gen_random_uuid(), 'Workspace of ' || full_name, id, created_at from public.users;

-- Two members per workspace: the next two users in id order.
with numbered as (select id, row_number() over (order by id) as rn, count(*) over () as n from public.users)
insert into public.workspace_members (workspace_id, user_id, role, created_at)
select w.id, m.id, case when m.rn % 5 = 0 then 'admin' else 'member' end, w.created_at + interval '1 hour'
from public.workspaces w
join numbered o on o.id = w.owner_id
cross join generate_series(1, 2) k
join numbered m on m.rn = (o.rn + k - 1) % o.n + 1
where o.n > 2;

insert into public.projects (id, owner_id, workspace_id, name, description, created_at)
select gen_random_uuid(), u.id, w.id, 'Project ' || p || ' of ' || u.full_name,
       (select string_agg((array['lesson', 'quiz', 'student', 'teacher', 'grade', 'module', 'review', 'draft', 'published', 'feedback',
                                 'assignment', 'course', 'rubric', 'outline', 'session', 'class', 'toolbox', 'activity', 'score', 'notes'])[1 + floor(random() * 20)::int], ' ')
        from generate_series(1, 20 + p % 30)) || ' ' || md5(u.id::text || p),
       u.created_at + make_interval(days => p)
from public.users u
join public.workspaces w on w.owner_id = u.id
cross join generate_series(1, :projects_per_user) p;

insert into public.project_members (project_id, user_id, role, created_at)
select p.id, wm.user_id, case when random() < 0.5 then 'editor' else 'viewer' end, p.created_at + interval '2 hours'
from public.projects p
join public.workspace_members wm on wm.workspace_id = p.workspace_id;

analyze;
