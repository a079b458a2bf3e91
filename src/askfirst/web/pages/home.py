"""The signed-in home: who you are, where your data settings live, and sign-out."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from askfirst.accounts.roles import SignedInMember
from askfirst.web.auth import current_member
from askfirst.web.rendering import render
from askfirst.web.urls import HOME_PATH

router = APIRouter(include_in_schema=False)


@router.get(HOME_PATH)
def home(request: Request, member: SignedInMember = Depends(current_member)) -> Response:
    return render(request, "home.html", member=member)
