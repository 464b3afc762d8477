

def test_grid_cells_cover_every_state_the_service_reports():
    from snipe.cli.monitor import CELL
    from snipe.services.stats import FREE, OURS, TAKEN

    assert set(CELL) == {FREE, TAKEN, OURS}
