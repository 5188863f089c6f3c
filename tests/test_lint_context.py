"""The lint reads the context of a finding: isolated test databases, what a POST does, what a number means.

Every input here is made up in the shape of code found in public test suites, where the lint used to be wrong
(a false positive, a miss).
"""

from __future__ import annotations

import textwrap
import unittest

from testdata_kit.lint import lint_source


def codes(source: str, code: str) -> list[int]:
    """Return the lines of *code*'s findings in *source*."""
    return [f.line for f in lint_source(textwrap.dedent(source)) if f.code == code]


DJANGO_TESTCASE = """
from django.test import TestCase
from django.contrib.auth.models import User

class SignupTests(TestCase):
    def test_signup(self):
        User.objects.create_user("mallory", "mallory@example.com", "pw")
        response = self.client.post("/users/", {"email": "trent@example.com", "username": "trent"})
        self.assertEqual(response.status_code, 201)
        users = self.client.get("/users/").json()
        users[0]
        self.client.get("/users/42/")
        User.objects.get(pk=1)
"""


class IsolatedDatabaseTests(unittest.TestCase):
    """Django's and pytest-django's tests write to a test database that is rolled back or flushed."""

    def test_django_testcase_is_not_a_shared_environment(self) -> None:
        for code in ("TDK001", "TDK002", "TDK004", "TDK005"):
            with self.subTest(code=code):
                self.assertEqual(codes(DJANGO_TESTCASE, code), [])

    def test_transaction_testcase_and_rest_framework_bases(self) -> None:
        for base in ("TransactionTestCase", "LiveServerTestCase"):
            source = DJANGO_TESTCASE.replace("(TestCase)", f"({base})").replace(
                "import TestCase", f"import {base}"
            )
            self.assertEqual(codes(source, "TDK004"), [], base)
        drf = DJANGO_TESTCASE.replace("from django.test import TestCase", "from rest_framework.test import "
                                      "APITestCase").replace("(TestCase)", "(APITestCase)")
        self.assertEqual(codes(drf, "TDK002"), [])

    def test_base_class_from_elsewhere_in_a_django_module(self) -> None:
        source = """
            from django.urls import reverse
            from myproject.testing import APITestCase

            class Base(APITestCase):
                pass

            class UserTests(Base):
                def test_create(self):
                    self.client.post("/api/users/", {"email": "heidi@example.com"}, format="json")
        """
        self.assertEqual(codes(source, "TDK004") + codes(source, "TDK002"), [])

    def test_unittest_testcase_in_a_django_module_is_still_checked(self) -> None:
        source = """
            import unittest
            from django.conf import settings

            class Smoke(unittest.TestCase):
                def test_create(self):
                    requests.post(settings.STAGING + "/users/", json={"email": "a@example.com"})
        """
        self.assertEqual(codes(source, "TDK004"), [7])
        self.assertEqual(codes(source, "TDK002"), [7])

    def test_pytest_django_marks_and_fixtures(self) -> None:
        for head, params in (("@pytest.mark.django_db\n", "self, client"), ("", "self, transactional_db")):
            source = f"""
import pytest

class TestSignup:
    {head}def test_signup({params}):
        client.post("/users/", {{"email": "ivan@example.com"}})
"""
            with self.subTest(head=head, params=params):
                self.assertEqual(codes(source, "TDK004") + codes(source, "TDK002"), [])
        module_mark = "import pytest\npytestmark = [pytest.mark.django_db]\n\nclass TestX:\n" \
                      "    def test_x(self, c):\n        c.post('/users/', {'email': 'a@example.com'})\n"
        self.assertEqual(codes(module_mark, "TDK004"), [])
        django_module = "from django.urls import reverse\n\ndef test_x(client):\n" \
                        "    client.post('/users/', {'email': 'a@example.com'})\n"
        self.assertEqual(codes(django_module, "TDK004"), [])

    def test_a_db_fixture_outside_django_may_commit(self) -> None:
        source = """
            from sqlmodel import Session

            def test_create(client, db: Session):
                client.post("/api/v1/items/", json={"title": "Foo"})
        """
        self.assertEqual(codes(source, "TDK004"), [5])

    def test_external_client_inside_an_isolated_test_is_checked(self) -> None:
        source = """
            from django.test import TestCase

            class T(TestCase):
                def test_remote(self):
                    requests.post("https://crm.example.com/contacts", json={"email": "a@example.com"})
        """
        self.assertEqual(codes(source, "TDK004"), [6])

    def test_sqlalchemy_rollback_fixture(self) -> None:
        source = """
            import pytest

            @pytest.fixture
            def session(engine):
                connection = engine.connect()
                transaction = connection.begin()
                yield Session(bind=connection)
                transaction.rollback()

            @pytest.fixture
            def client(session):
                return make_client(session)

            def test_create(client):
                client.post("/users/", json={"email": "judy@example.com"})

            def test_not_isolated(other_client):
                other_client.post("/users/", json={"email": "judy@example.com"})
        """
        self.assertEqual(codes(source, "TDK004"), [19])
        self.assertEqual(codes(source, "TDK002"), [19])

    def test_testcase_that_rolls_back_in_setup(self) -> None:
        source = """
            class T(unittest.TestCase):
                def setUp(self):
                    self.trans = self.connection.begin()
                    self.addCleanup(self.trans.rollback)

                def test_create(self):
                    self.session.add(User(email="peggy@example.com"))
                    api.post("/users/", json={})
        """
        self.assertEqual(codes(source, "TDK004") + codes(source, "TDK002"), [])


class InProcessAppTests(unittest.TestCase):
    """An app built in the test module, with no database in sight, keeps its state in the test process."""

    APP = """
        from fastapi import FastAPI
        from fastapi.testclient import TestClient

        app = FastAPI()

        @app.post("/items/")
        def create(item: dict):
            return item

        client = TestClient(app)

        def test_create():
            response = client.post("/items/", json={"username": "rick"})
            assert response.json()[0]
            client.get("/items/42")
    """

    def test_app_defined_in_the_module(self) -> None:
        for code in ("TDK001", "TDK002", "TDK004", "TDK005"):
            with self.subTest(code=code):
                self.assertEqual(codes(self.APP, code), [])

    def test_flask_test_client_and_httpx_transports(self) -> None:
        for setup in ("client = app.test_client()", "client = httpx.Client(transport=httpx.MockTransport(h))",
                      "client = httpx.AsyncClient(app=app)"):
            source = f"{setup}\n\ndef test_x():\n    client.post('/users/', json={{'id': 1}}).json()['id']\n"
            with self.subTest(setup=setup):
                self.assertEqual(codes(source, "TDK004"), [])

    def test_a_database_in_sight_is_checked(self) -> None:
        for line in ("from sqlmodel import Session", "from app.db import engine", "from app import models"):
            head = "from fastapi import FastAPI"
            source = textwrap.dedent(self.APP).replace(head, f"{head}\n{line}")
            with self.subTest(line=line):
                self.assertEqual(codes(source, "TDK004"), [15])

    def test_in_memory_sqlite_is_private_to_the_process(self) -> None:
        source = textwrap.dedent(self.APP).replace(
            "from fastapi import FastAPI", 'from fastapi import FastAPI\nfrom sqlalchemy import create_engine\n'
            'engine = create_engine("sqlite://")'
        )
        self.assertEqual(codes(source, "TDK004"), [])

    def test_network_clients_are_still_checked(self) -> None:
        source = textwrap.dedent(self.APP) + '\ndef test_remote():\n    requests.post(URL + "/orders", json={})\n'
        self.assertEqual(codes(source, "TDK004"), [19])


class NotACreateTests(unittest.TestCase):
    """TDK004 flags a POST only when something says it creates a record."""

    def test_request_builders_send_nothing(self) -> None:
        for receiver in ("APIRequestFactory()", "RequestFactory()", "self.factory", "rf"):
            with self.subTest(receiver=receiver):
                self.assertEqual(codes(f"def test_x():\n    {receiver}.post('/users/', {{'a': 1}})\n", "TDK004"), [])

    def test_graphql_reads_are_not_creates_but_mutations_are(self) -> None:
        source = """
            QUERY = "query { users { id } }"
            MUTATION = "mutation { createUser(email: $e) { id } }"

            def test_read(client):
                client.post("/graphql/", {"query": QUERY})

            def test_write(client):
                client.post("/graphql/", {"query": MUTATION})

            def test_unknown(client):
                client.post("/graphql/", {"query": load_query()})
        """
        self.assertEqual(codes(source, "TDK004"), [9])

    def test_auth_endpoints(self) -> None:
        for url in ("/login/", "/api/token/", "/auth/token/refresh/", '"/password-reset/"', "/logout",
                    "/api-token-auth/", "/login/access-token"):
            with self.subTest(url=url):
                source = f"def test_x(client):\n    client.post('{url.strip(chr(34))}', data={{'u': 'x'}})\n"
                self.assertEqual(codes(source, "TDK004"), [])
        self.assertEqual(codes("def test_x(c):\n    c.post(reverse('login'), data={})\n", "TDK004"), [])

    def test_put_and_patch_update(self) -> None:
        for verb in ("put", "patch"):
            with self.subTest(verb=verb):
                self.assertEqual(codes(f"def test_x(c):\n    c.{verb}('/users/7/', json={{'a': 1}})\n", "TDK004"), [])

    def test_calls_that_expect_a_client_error(self) -> None:
        source = """
            def test_bad(client):
                response = client.post("/users/", json={})
                assert response.status_code == 400

            def test_forbidden(self):
                response = self.client.post("/users/", {})
                self.assertEqual(response.status_code, status.HTTP_403_FORBIDDEN)

            def test_inline(client):
                assert client.post("/orders/", json={}).status_code in (404, 422)

            def test_created(client):
                response = client.post("/users/", json={})
                assert response.status_code == 201
        """
        self.assertEqual(codes(source, "TDK004"), [14])

    def test_evidence_for_an_opaque_url(self) -> None:
        source = """
            def test_echo(client):
                client.post(server.url, json={"a": 1})

            def test_reads_the_new_id(client):
                body = client.post(self.url, json={"a": 1}).json()
                api.get(f"/things/{body['id']}")

            def test_signup(client):
                client.post(f"{BASE}/users/signup", json={"a": 1})
        """
        self.assertEqual(codes(source, "TDK004"), [6, 10])


class NotAnIdTests(unittest.TestCase):
    """TDK001: numbers that are sizes, counts, delays and statuses are not record ids."""

    def test_parameters_in_the_path(self) -> None:
        for url in ("/bytes/1024", "/redirect/5", "/status/204", "/delay/3", "/stream/20", "/range/26",
                    "/links/10/0", "/relative-redirect/4", "/absolute-redirect/2", "/items?limit=5",
                    "/page/2", "/error/404", "/cache/60"):
            with self.subTest(url=url):
                self.assertEqual(codes(f"client.get({url!r})\n", "TDK001"), [])

    def test_ids_are_still_found(self) -> None:
        for url in ("/users/404", "/orders/17/items", "/users/42"):
            with self.subTest(url=url):
                self.assertEqual(codes(f"client.get({url!r})\n", "TDK001"), [1])

    def test_only_requested_urls(self) -> None:
        source = """
            expected = {"url": "http://testserver/users/1/"}
            assert serializer.data == {"url": "http://testserver/users/1/"}
            cookies.delete("name", domain="example.com", path="/subpath/2")
            responses.add(responses.GET, "http://api.test/users/42", json={})
            url = "/users/42"
            requests.get(url)
        """
        self.assertEqual(codes(source, "TDK001"), [6])

    def test_url_built_once_and_requested_later(self) -> None:
        source = """
            USER_URL = API + "/users/42"
            ORDERS = f"{API}/orders/17"

            def test_x():
                requests.get(USER_URL)
                for url in urls:
                    requests.get(url)

            def test_y():
                url = "/users/7"
                url = url + "/x"
                requests.get(url)
        """
        self.assertEqual(codes(source, "TDK001"), [2])

    def test_hard_coded_primary_keys_in_orm_lookups(self) -> None:
        source = """
            class T(unittest.TestCase):
                def test_x(self):
                    Order.objects.get(pk=1)
                    Order.objects.filter(customer_id=3)
                    get_object_or_404(Order, id=7)
                    reverse("order-detail", kwargs={"pk": 1})
                    Order.objects.get(pk=order.pk)
                    Order.objects.get(number=1)
                    settings.get(pk=1)
        """
        self.assertEqual(codes(source, "TDK001"), [4, 5, 6, 7])


class NotPersonalDataTests(unittest.TestCase):
    """TDK003's phone pattern skips digit strings that cannot be dialled."""

    def test_mac_addresses_durations_versions(self) -> None:
        for value in ("00-00-00-00-00-01", "0A:1B:2C:3D:4E:5F", "999999999 00", "-1000000000 00",
                      "10.0.19041.1234", "2024-01-15 1030", "1111-1111-11", "2.7.18.1234567",
                      "01 02 03 000004", "000-01-2345-6", "08-01-3697739"):
            with self.subTest(value=value):
                self.assertEqual(codes(f"v = {value!r}\n", "TDK003"), [])

    def test_long_integers_are_cards_only_under_a_card_name(self) -> None:
        source = """
            rng = default_rng(5292808890472453840)
            seed = 4532015112830366
            card = 4532015112830366
            payment = {"card_number": 4532015112830366, "amount": 4532015112830366}
            pay(cc_number=4532015112830366)
        """
        self.assertEqual(codes(source, "TDK003"), [4, 5, 6])

    def test_phone_numbers_still_found(self) -> None:
        for value in ("+1 212 736 5000", "(415) 867-5309", "415.867.5309", "+4915123456789", "030 12345678"):
            with self.subTest(value=value):
                self.assertEqual(codes(f"v = {value!r}\n", "TDK003"), [1])


class NotDataToCreateTests(unittest.TestCase):
    """TDK002 flags values that are sent to be stored, not values compared or configured."""

    def test_expected_values_and_settings_patches(self) -> None:
        source = """
            def test_x(client):
                expected = {"username": "alice", "email": "alice@test.com"}
                with patch("app.settings.SMTP_USER", "admin@test.com"):
                    client.get("/me")
                override_settings(DEFAULT_FROM_EMAIL="noreply@test.com")
                assert client.get("/me").json() == expected
        """
        self.assertEqual(codes(source, "TDK002"), [])

    def test_lowercase_factories_build_anything(self) -> None:
        self.assertEqual(codes('header_factory("To", "foo@example.com")\n', "TDK002"), [])
        self.assertEqual(codes('UserFactory(email="foo@example.com")\n', "TDK002"), [1])

    def test_names_without_uniqueness(self) -> None:
        source = """
            api.post("/addresses/", json={"name": "Alice Smith", "street": "1 Main St", "city": "Springfield"})
            api.post("/users/", json={"first_name": "Alice", "last_name": "Smith", "full_name": "Alice Smith"})
        """
        self.assertEqual(codes(source, "TDK002"), [])

    def test_real_provider_under_an_email_key_is_tdk003(self) -> None:
        source = 'api.post("/users/", json={"email": "jane.doe@gmail.com"})\n'
        self.assertEqual(codes(source, "TDK003"), [1])
        self.assertEqual(codes(source, "TDK002"), [1])
        selected = lint_source(source, select=["TDK003"])
        self.assertEqual([f.code for f in selected], ["TDK003"])
        self.assertEqual(codes('expected = {"email": "jane.doe@gmail.com"}\n', "TDK003"), [1])

    def test_email_assigned_to_a_variable_then_sent(self) -> None:
        source = """
            def test_signup(self):
                email = "oscar@test.com"
                api.post("/users/", json={"email": email})
                self.addCleanup(api.delete, "/users/x")
        """
        self.assertEqual(codes(source, "TDK002"), [3])

    def test_rows_built_inside_bulk_create(self) -> None:
        source = """
            class T(unittest.TestCase):
                def test_x(self):
                    User.objects.bulk_create([
                        User(email="walter@test.com"),
                        User(username="walter2"),
                    ])
        """
        self.assertEqual(codes(source, "TDK002"), [5, 6])


class SleepInTimeTestsTests(unittest.TestCase):
    def test_a_test_about_timeouts_sleeps_on_purpose(self) -> None:
        source = """
            def test_requests_after_timeout_are_dropped(self):
                server = Server(request_timeout=1)
                time.sleep(1.5)

            def test_token_expiry(self):
                token = issue(ttl=1)
                time.sleep(2)

            def test_broadcast(self):
                requests.post(URL, json={}, timeout=TIMEOUT)
                time.sleep(0.01)
        """
        self.assertEqual(codes(source, "TDK006"), [12])

    def test_a_sleep_that_lets_the_clock_move_is_not_a_wait_for_data(self) -> None:
        source = """
            def test_conditional_get(client):
                last = client.get("/items/")["Last-Modified"]
                time.sleep(1)
                assert client.get("/items/", HTTP_IF_MODIFIED_SINCE=last).status_code == 304

            def test_newest_first(client):
                time.sleep(1)
                client.get("/entries/?ordering=-created_at")

            def test_order_arrives(client):
                client.post("/orders/", json={})
                time.sleep(1)
                client.get("/orders/?ordering=name")
        """
        self.assertEqual(codes(source, "TDK006"), [13])


class FirstRecordTests(unittest.TestCase):
    def test_error_detail_lists_are_not_listings(self) -> None:
        source = """
            def test_x(self):
                response = api.get("/items")
                response.json()["detail"][0]
                response.json()["errors"][-1]
                response.json()["items"][0]
        """
        self.assertEqual(codes(source, "TDK005"), [6])

    def test_response_data_like_json(self) -> None:
        source = """
            def test_x(self):
                response = api.get("/users/")
                response.data["results"][0]
                api.get("/orders").data[-1]
        """
        self.assertEqual(codes(source, "TDK005"), [4, 5])


if __name__ == "__main__":
    unittest.main()
