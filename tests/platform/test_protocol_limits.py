"""Protocol files an attacker could write: aliases ("billion laughs"), huge files, huge
values, control characters. Refused quickly with a short message, by ``dyadlab protocol
check`` and by the upload at ``/r/studies``."""

from __future__ import annotations

import pytest

from dyadlab.exceptions import ProtocolError
from dyadlab.platform.protocol import MAX_PROTOCOL_BYTES, load_protocol
from tests.platform.test_pages_researcher import _csrf, _login


def laughs(levels: int = 6) -> str:
    """A "billion laughs": each level a list of nine aliases of the one before."""
    lines = ["study: x", 'l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for k in range(1, levels):
        lines.append(f"l{k}: &l{k} [" + ",".join([f"*l{k - 1}"] * 9) + "]")
    lines.append(f"languages: *l{levels - 1}")
    return "\n".join(lines) + "\n"


def test_cli_refuses_aliases_with_a_short_message(tmp_path, capsys):
    from dyadlab.cli import main

    path = tmp_path / "laughs.yaml"
    path.write_text(laughs())
    assert main(["protocol", "check", str(path)]) == 1
    err = capsys.readouterr().err
    assert "anchors and aliases (&name, *name) are not allowed" in err
    assert "line 2, column 5" in err
    assert len(err) < 400


def test_an_anchor_alone_is_refused_too(tmp_path):
    path = tmp_path / "anchor.yaml"
    path.write_text("study: &title x\nlanguages: [en]\n")
    with pytest.raises(ProtocolError, match="anchors and aliases"):
        load_protocol(path)


def test_a_file_above_the_size_limit_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("study: x\n# " + "x" * MAX_PROTOCOL_BYTES + "\n")
    with pytest.raises(ProtocolError, match=r"at most 1,000,000 \(1 MB\)"):
        load_protocol(path)


@pytest.mark.parametrize(
    "content",
    [
        "study: [" + ", ".join(['"' + "y" * 5000 + '"'] * 100) + "]\n",  # a huge wrong value
        "study: x\nlanguages: [en]\n" + "z" * 200_000 + ": 1\n",  # a huge unknown key
        "study: x\nlanguages: [en]\nquestionnaires:\n  - name: q\n    items:\n"
        "      - {name: a, type: slider, label: A, min: '" + "9" * 300_000 + "'}\n",
    ],
)
def test_messages_quote_a_short_excerpt_of_a_value(tmp_path, content):
    path = tmp_path / "long.yaml"
    path.write_text(content)
    with pytest.raises(ProtocolError) as caught:
        load_protocol(path)
    assert len(str(caught.value)) < 500


def test_a_control_character_in_a_protocol_is_refused(tmp_path, protocol_path):
    path = tmp_path / "nul.yaml"
    text = protocol_path.read_text()
    path.write_text(text.replace('"Anything you want to add? (optional)"', '"Any\\0thing?"'))
    with pytest.raises(
        ProtocolError, match=r"items\[3\].label.en contains the control character U\+0000"
    ):
        load_protocol(path)


def test_upload_refuses_aliases_quickly(client, db):
    _login(client, db)
    csrf = _csrf(client.get("/r/studies").text)
    r = client.post(
        "/r/studies",
        data={"csrf": csrf},
        files={"protocol": ("laughs.yaml", laughs(9).encode(), "application/x-yaml")},
    )
    assert r.status_code == 422
    assert "anchors and aliases" in r.text
    assert len(r.text) < 50_000
    assert client.get("/healthz").json() == {"status": "ok"}
