"""The settings of a SAML provider, checked when an administrator saves them
(booking/services/accounts/providers.py calls :func:`check_settings`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from defusedxml import ElementTree as SafeXML
from defusedxml.common import DefusedXmlException
from saml2 import BINDING_HTTP_REDIRECT

from booking.services.errors import N_, ValidationError

MD = "{urn:oasis:names:tc:SAML:2.0:metadata}"
MAX_XML_SETTING = 2 * 1024 * 1024


def check_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Check a SAML provider's settings.

    - ``idp_metadata_url`` or ``idp_metadata_xml`` (exactly one): where the
      IdP's metadata is published (fetched when needed, kept a few minutes), or
      the metadata itself. Either must describe an IdP (IDPSSODescriptor with a
      SingleSignOnService over HTTP-Redirect).
    - ``idp_entity_id`` (optional): which IdP, when the metadata is a
      federation's and lists several; required then.
    - ``subject_attribute`` (optional): the attribute that identifies a person
      for good (e.g. ``eduPersonPrincipalName``); by default the persistent NameID.
    - ``email_attribute``, ``name_attribute`` (optional, read by provisioning).
    """
    settings = {key: value for key, value in dict(settings).items()
                if value not in (None, "")}
    url, xml = settings.get("idp_metadata_url"), settings.get("idp_metadata_xml")
    if (url is None) == (xml is None):
        raise ValidationError(N_("Give either the address of the IdP's metadata or the "
                                 "metadata itself, not both."),
                              {"field": "settings.idp_metadata_url"})
    for key in ("idp_entity_id", "subject_attribute", "email_attribute", "name_attribute"):
        value = settings.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()
                                  or len(value) > 1024 or not value.isprintable()):
            raise ValidationError(N_("This setting must be a line of text."),
                                  {"field": f"settings.{key}"})
    if url is not None:
        settings["idp_metadata_url"] = _check_url(url)
        return settings
    settings["idp_metadata_xml"] = xml
    idps = _idps_in(xml)
    wanted = settings.get("idp_entity_id")
    if wanted is not None and wanted not in idps:
        raise ValidationError(N_("The metadata describes no IdP with this entity id."),
                              {"field": "settings.idp_entity_id"})
    if wanted is None and len(idps) > 1:
        raise ValidationError(N_("The metadata describes several IdPs: give the entity id "
                                 "of the establishment's own."),
                              {"field": "settings.idp_entity_id"})
    return settings


def _check_url(url: Any) -> str:
    invalid = ValidationError(N_("The metadata address must be an http or https URL."),
                              {"field": "settings.idp_metadata_url"})
    if not isinstance(url, str):
        raise invalid
    url = url.strip()
    try:
        parts = urlsplit(url)
        _port = parts.port  # reading it checks it
    except ValueError as error:
        raise invalid from error
    if (parts.scheme not in ("http", "https") or not parts.hostname or not url.isascii()
            or not url.isprintable() or " " in url or len(url) > 2000):
        raise invalid
    return url


def _idps_in(xml: Any) -> list[str]:
    """The entity ids of the IdPs the metadata describes (with a
    SingleSignOnService over HTTP-Redirect); ValidationError if none."""
    not_metadata = ValidationError(N_("This is not the SAML metadata of an identity provider."),
                                   {"field": "settings.idp_metadata_xml"})
    if not isinstance(xml, str) or len(xml) > MAX_XML_SETTING:
        raise not_metadata
    try:
        root = SafeXML.fromstring(xml.strip().encode())
    except (SafeXML.ParseError, DefusedXmlException, ValueError) as error:
        raise not_metadata from error
    entities = [root] if root.tag == f"{MD}EntityDescriptor" else \
        list(root.iter(f"{MD}EntityDescriptor")) if root.tag == f"{MD}EntitiesDescriptor" else []
    idps = [entity.get("entityID", "") for entity in entities
            if any(service.get("Binding") == BINDING_HTTP_REDIRECT
                   for descriptor in entity.findall(f"{MD}IDPSSODescriptor")
                   for service in descriptor.findall(f"{MD}SingleSignOnService"))]
    idps = [idp for idp in idps if idp]
    if not idps:
        raise not_metadata
    return idps
