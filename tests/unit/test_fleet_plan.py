"""`agent-conformance batch`'s list: one reference a line or a TOML list, each image's folder from
its reference alone, and every bad list refused in one line naming the file and the entry."""

from __future__ import annotations

import pytest

from conformance.errors import ConfigError
from conformance.fleet import plan


def test_one_reference_a_line_with_comments_and_blank_lines(tmp_path):
    listing = tmp_path / "images.txt"
    listing.write_text("# vendors\nvendor-a/agent:1.4\n\n  registry.example.com:5000/b/agent@sha256:" + "a" * 64 + "\n")
    entries = plan.load(str(listing))
    assert [e.ref for e in entries] == ["vendor-a/agent:1.4", "registry.example.com:5000/b/agent@sha256:" + "a" * 64]
    assert entries[0].folder == "vendor-a_agent_1.4"
    assert entries[1].folder == "registry.example.com_5000_b_agent_sha256_" + "a" * 64
    assert all(e.agent_config is None and e.profile is None for e in entries)


def test_a_toml_list_names_each_image_config_relative_to_the_list(tmp_path):
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "a.toml").write_text("[budgets]\nstartup_s = 5\n")
    listing = tmp_path / "images.toml"
    (tmp_path / "scans").mkdir()
    (tmp_path / "scans" / "a.json").write_text("{}")
    listing.write_text('[[image]]\nref = "a:1"\nagent_config = "configs/a.toml"\nprofile = "cloud-run"\n'
                       'vuln_report = "scans/a.json"\n\n[[image]]\nref = "b:2"\n')
    first, second = plan.load(str(listing))
    assert (first.ref, first.agent_config, first.profile) == ("a:1", (tmp_path / "configs" / "a.toml").resolve(), "cloud-run")
    assert first.vuln_report == (tmp_path / "scans" / "a.json").resolve()
    assert (second.ref, second.agent_config, second.profile, second.vuln_report) == ("b:2", None, None, None)


def test_standard_input_reads_relative_paths_from_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.toml").write_text("")
    (entry,) = plan.load("-", '[[image]]\nref = "a:1"\nagent_config = "a.toml"\n')
    assert entry.agent_config == (tmp_path / "a.toml").resolve()


@pytest.mark.parametrize("text, message", [
    ("", "no image listed"),
    ("# only a comment\n", "no image listed"),
    ("a:1\na:1\n", "a:1 is listed twice"),
    ("a/b:1\na_b:1\n", "a/b:1 and a_b:1 would share the bundle folder a_b_1"),
    ("not an image!\n", "line 1: 'not an image!' is not an image reference"),
    ("a:1\n-rm:1\n", "line 2"),
    ("[[image]]\nref = 3\n", r"image\[0\]\.ref: expected a string, got 3"),
    ("[[image]]\nprofile = 'knative'\n", r"image\[0\]\.ref: missing"),
    ("[[image]]\nref = 'a:1'\nconfig = 'x'\n", r"image\[0\]: unknown key 'config'"),
    ("[[image]]\nref = 'a:1'\nagent_config = 'nowhere.toml'\n", r"image\[0\]\.agent_config: .*nowhere\.toml is not a file"),
    ("[[image]]\nref = 'a:1'\nvuln_report = 'nowhere.json'\n", r"image\[0\]\.vuln_report: .*nowhere\.json is not a file"),
    ("[images]\nref = 'a:1'\n", "unknown key 'images'"),
    ("[[image]\n", "not valid TOML"),
])
def test_a_bad_list_is_refused_naming_the_entry(tmp_path, text, message):
    listing = tmp_path / "images.txt"
    listing.write_text(text)
    with pytest.raises(ConfigError, match=message) as refused:
        plan.load(str(listing))
    assert str(listing) in str(refused.value) and "\n" not in str(refused.value)


def test_files_that_are_not_lists_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the list"):
        plan.load(str(tmp_path / "absent.txt"))
    big = tmp_path / "big.txt"
    big.write_bytes(b"a:1\n" * (plan.MAX_LIST_BYTES // 4 + 1))
    with pytest.raises(ConfigError, match="larger than 1 MiB"):
        plan.load(str(big))
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match="not UTF-8"):
        plan.load(str(binary))


def test_no_image_folder_can_be_the_batch_s_own():
    assert all(not plan.folder_name(ref).startswith("_") for ref in ("a", "0x:1", "A/b@sha256:00"))
