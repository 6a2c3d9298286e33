"""lib.anonymise: what it takes out of a text, what it keeps, and that hostile input cannot stall it."""

from __future__ import annotations

import time

import pytest

from firstring.lib.anonymise import anonymise, scrub


def test_a_word_of_a_name_is_taken_out_only_where_it_is_written_as_a_name():
    assert scrub("Will, we will call WILL SMITH and will smith.", names=["Will Smith"]) == (
        "[name], we will call [name] and [name]."
    )


def test_anonymise_takes_out_addresses_phones_order_numbers_and_names_and_keeps_the_rest():
    text = anonymise(
        "Hi Alice Archer, your order #12345 (ref AB-98765) ships to alice.archer+x@mail.example.com. "
        "Call +49 30 1234 5678 or (030) 123-4567. Order number: XK29A1. Version 2.4; 3 items.",
        names=["Alice Archer"],
    )
    assert text == (
        "Hi [name], your order #[number] (ref [number]) ships to [email]. "
        "Call [phone] or [phone]. Order number: [number]. Version 2.4; 3 items."
    )


def test_identifiers_go_whatever_their_case_and_handles_keep_their_at_sign():
    text = scrub(
        "Write to Carla@Example.com, call +4915112345678 or ping @carla_r.",
        identifiers=["carla@example.com", "+4915112345678", "carla_r"],
    )
    assert text == "Write to [email], call [phone] or ping @[name]."


def test_a_text_with_nothing_to_hide_is_unchanged():
    text = "Open Settings, then Security, and choose version 2.4 (3 steps, 10 minutes)."
    assert anonymise(text, names=["Dana Doe"]) == text


@pytest.mark.parametrize("piece", ["a", "a.", "1-", "a@", "+1 ", "order #", "AB-", "x" * 50 + " "])
def test_long_hostile_runs_are_read_in_linear_time(piece):
    text = piece * (200_000 // len(piece))
    started = time.perf_counter()
    anonymise(text, names=["Alice Archer"], identifiers=["alice@example.com"])
    # Linear is well under a second on a busy machine; a quadratic pattern takes minutes.
    assert time.perf_counter() - started < 5
