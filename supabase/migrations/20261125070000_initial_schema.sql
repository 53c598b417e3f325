-- Initial schema of the integration guide: users, workspaces, projects and their members,
-- with Row Level Security on every table.
--
-- Written as Supabase recommends:
-- * policies call (select auth.uid()), evaluated once per statement, and name their role (TO authenticated);
-- * membership checks go through SECURITY DEFINER helpers in the non-exposed schema `private`,
--   with search_path pinned, so that policies never query an RLS-protected table recursively;
-- * explicit GRANTs: new projects no longer grant public tables to the API roles by default.
--   anon gets nothing; authenticated gets only the statements and columns its policies allow.

create schema if not exists private;
revoke all on schema private from public;

-- Tables ----------------------------------------------------------------------------------

create table public.users (
    id uuid primary key references auth.users (id) on delete cascade,
    email text not null,
    clerk_id text,
    full_name text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table public.workspaces (
    id uuid primary key default gen_random_uuid(),
    name text not null,
    owner_id uuid not null references public.users (id) on delete cascade,
    created_at timestamptz not null default now()
);

create table public.workspace_members (
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    user_id uuid not null references public.users (id) on delete cascade,
    role text not null default 'member' check (role in ('member', 'admin')),
    created_at timestamptz not null default now(),
    primary key (workspace_id, user_id)
);

create table public.projects (
    id uuid primary key default gen_random_uuid(),
    owner_id uuid not null references public.users (id) on delete cascade,
    workspace_id uuid references public.workspaces (id) on delete set null,
    name text not null,
    description text,
    created_at timestamptz not null default now()
);

create table public.project_members (
    project_id uuid not null references public.projects (id) on delete cascade,
    user_id uuid not null references public.users (id) on delete cascade,
    role text not null default 'viewer' check (role in ('viewer', 'editor')),
    created_at timestamptz not null default now(),
    primary key (project_id, user_id)
);

-- Indexes: the guide's, then one for every column a policy or helper filters on --------------

create unique index idx_users_email on public.users (email);
create unique index idx_users_clerk_id on public.users (clerk_id);
create index idx_projects_owner on public.projects (owner_id);
create index idx_projects_created on public.projects (created_at desc);
create index idx_workspaces_user on public.workspace_members (user_id);
-- The composite primary keys index (project_id, ...) and (workspace_id, ...) but not user_id.
create index idx_project_members_user on public.project_members (user_id);
create index idx_workspaces_owner on public.workspaces (owner_id);
create index idx_projects_workspace on public.projects (workspace_id);

-- Membership helpers: run as their owner (bypasses RLS), see only the caller's own rows -------

create function private.is_project_owner(p_project_id uuid) returns boolean
    language sql stable security definer set search_path = ''
as $$
    select exists (select 1 from public.projects where id = p_project_id and owner_id = (select auth.uid()));
$$;

create function private.is_project_member(p_project_id uuid) returns boolean
    language sql stable security definer set search_path = ''
as $$
    select exists (select 1 from public.project_members where project_id = p_project_id and user_id = (select auth.uid()));
$$;

create function private.is_workspace_owner(p_workspace_id uuid) returns boolean
    language sql stable security definer set search_path = ''
as $$
    select exists (select 1 from public.workspaces where id = p_workspace_id and owner_id = (select auth.uid()));
$$;

create function private.is_workspace_member(p_workspace_id uuid) returns boolean
    language sql stable security definer set search_path = ''
as $$
    select exists (select 1 from public.workspace_members where workspace_id = p_workspace_id and user_id = (select auth.uid()));
$$;

revoke all on all functions in schema private from public;
grant usage on schema private to authenticated;
grant execute on all functions in schema private to authenticated;

-- Row Level Security ------------------------------------------------------------------------

alter table public.users enable row level security;
alter table public.workspaces enable row level security;
alter table public.workspace_members enable row level security;
alter table public.projects enable row level security;
alter table public.project_members enable row level security;

-- users: each user sees and edits only their own row (the guide's two policies).
create policy "Users can view own data" on public.users
    for select to authenticated using (id = (select auth.uid()));
create policy "Users can update own data" on public.users
    for update to authenticated using (id = (select auth.uid())) with check (id = (select auth.uid()));

-- workspaces: visible to their owner and members; only the owner changes them.
create policy "Members can view their workspaces" on public.workspaces
    for select to authenticated using (owner_id = (select auth.uid()) or (select private.is_workspace_member(id)));
create policy "Users can create workspaces they own" on public.workspaces
    for insert to authenticated with check (owner_id = (select auth.uid()));
create policy "Owners can update their workspaces" on public.workspaces
    for update to authenticated using (owner_id = (select auth.uid())) with check (owner_id = (select auth.uid()));
create policy "Owners can delete their workspaces" on public.workspaces
    for delete to authenticated using (owner_id = (select auth.uid()));

-- workspace_members: members see their co-members; only the owner adds, changes or removes them;
-- a member may leave.
create policy "Members can view workspace members" on public.workspace_members
    for select to authenticated using ((select private.is_workspace_member(workspace_id)) or (select private.is_workspace_owner(workspace_id)));
create policy "Owners can add workspace members" on public.workspace_members
    for insert to authenticated with check ((select private.is_workspace_owner(workspace_id)));
create policy "Owners can change workspace members" on public.workspace_members
    for update to authenticated using ((select private.is_workspace_owner(workspace_id))) with check ((select private.is_workspace_owner(workspace_id)));
create policy "Owners remove members, members leave" on public.workspace_members
    for delete to authenticated using (user_id = (select auth.uid()) or (select private.is_workspace_owner(workspace_id)));

-- projects: the guide's policy (owner or member can view); only the owner changes or deletes;
-- a project can only be created as one's own, inside a workspace one belongs to.
create policy "Users can view own projects" on public.projects
    for select to authenticated using (owner_id = (select auth.uid()) or (select private.is_project_member(id)));
create policy "Users can create their own projects" on public.projects
    for insert to authenticated with check (
        owner_id = (select auth.uid())
        and (workspace_id is null or (select private.is_workspace_member(workspace_id)) or (select private.is_workspace_owner(workspace_id)))
    );
create policy "Owners can update their projects" on public.projects
    for update to authenticated using (owner_id = (select auth.uid())) with check (
        owner_id = (select auth.uid())
        and (workspace_id is null or (select private.is_workspace_member(workspace_id)) or (select private.is_workspace_owner(workspace_id)))
    );
create policy "Owners can delete their projects" on public.projects
    for delete to authenticated using (owner_id = (select auth.uid()));

-- project_members: members see their co-members; only the owner manages memberships; a member may leave.
create policy "Members can view project members" on public.project_members
    for select to authenticated using ((select private.is_project_member(project_id)) or (select private.is_project_owner(project_id)));
create policy "Owners can add project members" on public.project_members
    for insert to authenticated with check ((select private.is_project_owner(project_id)));
create policy "Owners can change project members" on public.project_members
    for update to authenticated using ((select private.is_project_owner(project_id))) with check ((select private.is_project_owner(project_id)));
create policy "Owners remove members, members leave" on public.project_members
    for delete to authenticated using (user_id = (select auth.uid()) or (select private.is_project_owner(project_id)));

-- Grants ------------------------------------------------------------------------------------
-- Column lists keep identity and ownership columns out of reach: nobody but service_role
-- changes an id, an owner_id or a membership's user.

revoke all on public.users, public.workspaces, public.workspace_members, public.projects, public.project_members from anon, authenticated;

grant select on public.users to authenticated;
grant update (full_name, updated_at) on public.users to authenticated;

grant select, delete on public.workspaces to authenticated;
grant insert (name, owner_id) on public.workspaces to authenticated;
grant update (name) on public.workspaces to authenticated;

grant select, delete on public.workspace_members to authenticated;
grant insert (workspace_id, user_id, role) on public.workspace_members to authenticated;
grant update (role) on public.workspace_members to authenticated;

grant select, delete on public.projects to authenticated;
grant insert (name, description, owner_id, workspace_id) on public.projects to authenticated;
grant update (name, description, workspace_id) on public.projects to authenticated;

grant select, delete on public.project_members to authenticated;
grant insert (project_id, user_id, role) on public.project_members to authenticated;
grant update (role) on public.project_members to authenticated;

grant all on public.users, public.workspaces, public.workspace_members, public.projects, public.project_members to service_role;
