"""make_agent trades what a venue would accept: its instrument's lot, tick and minimums."""

from __future__ import annotations

import pytest

from axon_lab.errors import ConfigError
from axon_lab.oader import make_agent
from axon_lab.records import Instrument


def _on_grid(value: float, step: float) -> bool:
    units = value / step
    return abs(units - round(units)) < 1e-6


# the sample's known duplicates are repaired on load, with a warning that says so
@pytest.mark.filterwarnings("ignore::axon_lab.data.DataRepairWarning")
def test_the_bundled_demo_sends_no_dust_orders():
    # before: the demo's rules agent topped its position up with orders of 3.7e-05 BTC (a fee of
    # 0.0016) that any exchange refuses below its minimum notional
    loop = make_agent("btc-usd-15m", store="sqlite://", run_id="dust", progress=False)
    loop.run(1_000)
    btc = loop.tools.chain.instruments["BTC-USD"]
    fills = loop.store.fills("dust")
    assert fills
    for fill in fills:
        assert _on_grid(fill.quantity, btc.lot_size)
    sent = [a for s in loop.store.steps("dust") for a in s.acks if a.status.value != "rejected"]
    assert sent
    held = [
        s.decision.reason
        for s in loop.store.steps("dust")
        if s.decision is not None and "below the minimum notional" in s.decision.reason
    ]
    assert held  # the top-ups that used to be dust are now holds with their reason
    for s in loop.store.steps("dust"):
        d = s.decision
        if d is not None and d.quantity is not None and d.price is not None:
            assert d.quantity * d.price >= btc.min_notional
            assert _on_grid(d.price, btc.tick_size)
    loop.close()


def test_a_users_instrument_replaces_the_default_and_is_recorded():
    whole = Instrument(symbol="SYN", lot_size=1.0, tick_size=0.01, source="my broker")
    loop = make_agent(
        "synthetic-1h", store="sqlite://", run_id="mine", progress=False, instruments={"SYN": whole}
    )
    loop.run(300)
    assert all(_on_grid(f.quantity, 1.0) for f in loop.store.fills("mine"))
    assert loop.store.get_run("mine").config["instruments"]["SYN"]["source"] == "my broker"
    loop.close()


def test_an_instrument_for_the_wrong_symbol_is_refused():
    with pytest.raises(ConfigError, match=r"instruments\['SYN'\] must be an Instrument for 'SYN'"):
        make_agent(
            "synthetic-1h",
            store="sqlite://",
            progress=False,
            instruments={"SYN": Instrument(symbol="BTC-USD")},
        )
