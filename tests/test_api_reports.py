"""GET /api/v1/reports/utilisation: figures on a small hand-built campus."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from booking.services.bookings.occupancy import occupancy_rows
from models import Booking, BookingPurpose, BookingStatus, Closure, Role
from tests.conftest import PASSWORD


def _token(client, user) -> dict[str, str]:
    token = client.post("/api/v1/auth/tokens",
                        json={"email": user.email, "password": PASSWORD}).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}


def _book(make, equipment, user, start, end, status=BookingStatus.CONFIRMED,
          purpose=BookingPurpose.TRAINING, n=[0]):  # noqa: B006 - a counter for uids
    n[0] += 1
    booking = Booking(uid=f"r{n[0]}@t", equipment=equipment, start_at=start, end_at=end,
                      title="S", purpose=purpose, status=status, booked_by=user,
                      cancelled_at=start if status is BookingStatus.CANCELLED else None)
    booking.occupancies = occupancy_rows(booking, equipment)
    make.session.add(booking)
    make.session.flush()
    return booking


@pytest.fixture
def campus(make):
    est = make.establishment(code="TRS")
    coordinator = make.user(Role.COORDINATOR, establishment=est)
    trainer = make.user(Role.TRAINER, establishment=est)
    # Monday to Friday 08:00–18:00: 10 h a day.
    machine = make.equipment(establishment=est, code="M1", changeover_minutes=30)
    return est, coordinator, trainer, machine


def test_week_with_a_holiday_a_closure_and_a_booking_across_the_range(client, make, campus):
    _est, coordinator, trainer, machine = campus
    # Week of Monday 2027-05-03; Thursday 6 May 2027 is Ascension Day.
    make.session.add(Closure(equipment_id=machine.id, reason="maintenance",
                             start_at=datetime(2027, 5, 4, 6, tzinfo=UTC),  # Tue 08:00 Paris
                             end_at=datetime(2027, 5, 4, 10, tzinfo=UTC)))  # 12:00 Paris
    # Friday 2027-05-07 14:00–18:00 Paris, one before the range, one cancelled.
    _book(make, machine, trainer, datetime(2027, 5, 7, 12, tzinfo=UTC),
          datetime(2027, 5, 7, 16, tzinfo=UTC))
    _book(make, machine, trainer, datetime(2027, 4, 30, 12, tzinfo=UTC),
          datetime(2027, 4, 30, 16, tzinfo=UTC))
    _book(make, machine, trainer, datetime(2027, 5, 5, 6, tzinfo=UTC),
          datetime(2027, 5, 5, 8, tzinfo=UTC), status=BookingStatus.CANCELLED)
    response = client.get("/api/v1/reports/utilisation?from=2027-05-03&to=2027-05-08"
                          "&group_by=equipment", headers=_token(client, coordinator))
    assert response.status_code == 200, response.get_json()
    (row,) = response.get_json()["items"]
    assert row["open_hours"] == 5 * 10 - 10 - 4  # a holiday, a 4-hour closure
    assert row["booked_hours"] == 4
    assert row["rate"] == pytest.approx(4 / 36, abs=1e-4)


def test_daylight_saving_day_keeps_its_wall_clock_hours(client, make, campus):
    _est, coordinator, _trainer, machine = campus
    machine.open_on_holidays = True
    from models import OpeningHours

    machine.opening_hours.append(OpeningHours(weekday=6, opens=time(0), closes=time(23, 30)))
    make.session.flush()
    # Sunday 2027-03-28: the clocks go forward at 02:00; 00:00–23:30 is 22.5 h that day.
    response = client.get("/api/v1/reports/utilisation?from=2027-03-28&to=2027-03-29",
                          headers=_token(client, coordinator))
    assert response.get_json()["items"][0]["open_hours"] == 22.5


@pytest.mark.parametrize("role", [Role.TRAINER, Role.COMPANY])
def test_only_staff_read_reports(client, make, campus, role):
    user = make.user(role)
    response = client.get("/api/v1/reports/utilisation?from=2027-05-10&to=2027-05-15",
                          headers=_token(client, user))
    assert response.status_code == 403
    assert response.get_json()["error"] == "forbidden"


def test_group_by_purpose_and_bad_ranges(client, make, campus):
    _est, coordinator, trainer, machine = campus
    _book(make, machine, trainer, datetime(2027, 5, 14, 12, tzinfo=UTC),
          datetime(2027, 5, 14, 16, tzinfo=UTC), purpose=BookingPurpose.MAINTENANCE)
    headers = _token(client, coordinator)
    rows = client.get("/api/v1/reports/utilisation?from=2027-05-10&to=2027-05-15"
                      "&group_by=purpose", headers=headers).get_json()["items"]
    assert [(r["key"], r["booked_hours"]) for r in rows] == [("maintenance", 4.0)]
    assert client.get("/api/v1/reports/utilisation?from=2027-05-15&to=2027-05-10",
                      headers=headers).status_code == 422
    assert client.get("/api/v1/reports/utilisation?from=2027-05-10&to=2027-05-15"
                      "&group_by=colour", headers=headers).status_code == 422
    assert date(2027, 5, 10)  # the week of the figures above
