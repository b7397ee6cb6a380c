"""Project templates: everyone reads, admins add, edit and delete custom ones."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from atelier.api.audit import audit
from atelier.api.deps import AdminUser, CurrentUser, SessionDep
from atelier.api.schemas import TemplateIn, TemplateOut, TemplatePatch
from atelier.store import TemplateRepo, TemplateRow

router = APIRouter(prefix="/api", tags=["templates"])


def template_out(row: TemplateRow) -> TemplateOut:
    return TemplateOut(
        id=row.id,
        name=row.name,
        description=row.description,
        language=row.language,
        prompt_hint=row.prompt_hint,
        suggested_files=list(row.suggested_files or []),
        tags=list(row.tags or []),
        builtin=row.builtin,
    )


@router.get("/templates", response_model=list[TemplateOut])
async def list_templates(
    _user: CurrentUser,
    session: SessionDep,
    language: Annotated[str | None, Query(max_length=32)] = None,
) -> list[TemplateOut]:
    """Built-in templates first, then custom ones."""
    return [template_out(r) for r in await TemplateRepo(session).list(language)]


@router.get(
    "/templates/{template_id}",
    response_model=TemplateOut,
    responses={404: {"description": "no such template"}},
)
async def get_template(template_id: str, _user: CurrentUser, session: SessionDep) -> TemplateOut:
    return template_out(await TemplateRepo(session).get(template_id))


@router.post(
    "/templates",
    response_model=TemplateOut,
    status_code=status.HTTP_201_CREATED,
    responses={403: {"description": "admins only"}, 409: {"description": "id taken"}},
)
async def create_template(
    body: TemplateIn, admin: AdminUser, session: SessionDep, request: Request
) -> TemplateOut:
    """Add a custom template (admins)."""
    row = await TemplateRepo(session).create(
        body.id,
        body.name,
        description=body.description,
        language=body.language,
        prompt_hint=body.prompt_hint,
        suggested_files=body.suggested_files,
        tags=body.tags,
        created_by=admin.user_id,
    )
    await audit(
        session,
        "template.created",
        admin,
        request,
        target_type="template",
        target_id=row.id,
        target_label=row.name,
    )
    await session.commit()
    return template_out(row)


@router.patch(
    "/templates/{template_id}",
    response_model=TemplateOut,
    responses={
        403: {"description": "admins only / built in"},
        404: {"description": "no such template"},
    },
)
async def update_template(
    template_id: str, body: TemplatePatch, admin: AdminUser, session: SessionDep, request: Request
) -> TemplateOut:
    """Change a custom template (admins; built-ins are read-only)."""
    fields = body.model_dump(exclude_unset=True, exclude_none=True)
    row = await TemplateRepo(session).update(template_id, **fields)
    await audit(
        session,
        "template.updated",
        admin,
        request,
        target_type="template",
        target_id=row.id,
        target_label=row.name,
        fields=sorted(fields),
    )
    await session.commit()
    return template_out(row)


@router.delete(
    "/templates/{template_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        403: {"description": "admins only / built in"},
        404: {"description": "no such template"},
    },
)
async def delete_template(
    template_id: str, admin: AdminUser, session: SessionDep, request: Request
) -> Response:
    """Delete a custom template (admins; built-ins stay)."""
    repo = TemplateRepo(session)
    name = (await repo.get(template_id)).name
    await repo.delete(template_id)
    await audit(
        session,
        "template.deleted",
        admin,
        request,
        target_type="template",
        target_id=template_id,
        target_label=name,
    )
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
