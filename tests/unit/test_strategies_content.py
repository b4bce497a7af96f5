"""The committed dataset against the documents, as read by hand.

The expected counts were made without the parser: section 7's rows by going
through the tables page by page and by counting the value cells (a unit cell
followed by three targets) between the sector headings; the projects by
their row numbers in section 6. The sampled values are copied from the text,
and each sample carries the piece of source text it was copied from, which
must be found in the source as it stands.
"""

from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SOURCES = {
    "leningrad-oblast": ROOT / "data" / "sources" / "000_183b9c6fafed5155.txt",
    "nenets-ao": ROOT / "data" / "sources" / "003_d72a3ffb3a16c57b.txt",
}

# Per sector, in sector order.
PROJECTS = {
    "leningrad-oblast": [6, 9, 3, 4, 7, 7, 2, 2, 2, 8],
    "nenets-ao": [7, 9, 6, 2, 9, 8, 1, 5, 1, 3, 1],
}
INDICATORS = {
    "leningrad-oblast": [6, 19, 8, 7, 18, 13, 2, 4, 2, 10],
    "nenets-ao": [16, 36, 12, 4, 28, 14, 1, 6, 1, 5, 1],
}
DEPARTMENTS = {"leningrad-oblast": 14, "nenets-ao": 8}
SECTORS = {
    "leningrad-oblast": [
        "Образование и наука",
        "Здравоохранение",
        "Развитие городской среды",
        "Транспорт и логистика",
        "Государственное управление",
        "Социальная сфера",
        "Экология и природопользование",
        "Сельское хозяйство",
        "Промышленность",
        "Культура и туризм",
    ],
    "nenets-ao": [
        "Образование и наука",
        "Здравоохранение",
        "Развитие городской среды",
        "Транспорт и логистика",
        "Государственное управление",
        "Социальная сфера",
        "Строительство",
        "Экология и природопользование",
        "Энергетическая инфраструктура",
        "Промышленность",
        "Безопасность",
    ],
}

# (indicator id, source excerpt, project, department, name start, unit, printed, values, direction)
INDICATOR_SAMPLES = {
    "leningrad-oblast": [
        (
            "1.1.1",
            " сервисам для самостоятельной\n подготовки\n \n 30\n 50\n 80\n",
            "1.1",
            "Комитет общего и профессионального образования Ленинградской области",
            "Доля учащихся, имеющих возможность бесплатного доступа к верифицированному",
            "%",
            ["30", "50", "80"],
            [30, 50, 80],
            "higher_is_better",
        ),
        (
            "4.1.1",
            " человек на 100 тысяч населения\n тыс.чел.\n 17.49 16.21 15.3\n",
            "4.1",
            "Комитет по дорожному хозяйству Ленинградской области",
            "Количество погибших в дорожно-транспортных происшествиях, человек на 100 тысяч",
            "тыс.чел.",
            ["17.49", "16.21", "15.3"],
            [17.49, 16.21, 15.3],
            "lower_is_better",
        ),
        (
            "4.1.2",
            " тысяч транспортных средств\n тыс.чел.\n 4.18\n 3.87\n 3.66\n",
            "4.1",
            "Комитет по дорожному хозяйству Ленинградской области",
            "Количество погибших в дорожно-транспортных происшествиях на 10 тысяч",
            "тыс.чел.",
            ["4.18", "3.87", "3.66"],
            [4.18, 3.87, 3.66],
            "lower_is_better",
        ),
        (
            "5.4.4",
            " и муниципальных услуг (функций) и\n раз\n 0.3\n 0.6\n 0.8\n",
            "5.4",
            "Комитет цифрового развития Ленинградской области",
            "Сокращение регламентного времени предоставления государственных и муниципальных",
            "раз",
            ["0.3", "0.6", "0.8"],
            [0.3, 0.6, 0.8],
            "higher_is_better",
        ),
        (
            "5.4.6",
            " услуг (функций)\n балл.\n 3.9\n 4\n 4.1\n",
            "5.4",
            "Комитет цифрового развития Ленинградской области",
            "Уровень удовлетворенности качеством предоставления массовых",
            "балл.",
            ["3.9", "4", "4.1"],
            [3.9, 4, 4.1],
            "higher_is_better",
        ),
        (
            "5.4.7",
            " предоставляемых органами\n усл.ед.\n 20\n 40\n 50\n",
            "5.4",
            "Комитет цифрового развития Ленинградской области",
            "Количество государственных услуг, предоставляемых органами государственной власти",
            "усл.ед.",
            ["20", "40", "50"],
            [20, 40, 50],
            "higher_is_better",
        ),
        (
            "5.6.1",
            " образованиях\n ед.\n 27\n 31\n 35\n",
            "5.6",
            "Комитет цифрового развития Ленинградской области",
            "Количество зон уличного видеоконтроля в муниципальных образованиях",
            "ед.",
            ["27", "31", "35"],
            [27, 31, 35],
            "higher_is_better",
        ),
        (
            "5.7.1",
            " сети Интернет, не менее\n \n 98\n 98,5\n 99\n",
            "5.7",
            "Комитет цифрового развития Ленинградской области",
            "Доля организаций частной формы собственности",
            "%",
            ["98", "98,5", "99"],
            [98, 98.5, 99],
            "higher_is_better",
        ),
        (
            "6.6.1",
            " обрабатываемых посредством\n \n 30\n 40\n 50\n",
            "6.6",
            "Комитет по социальной защите населения Ленинградской области",
            "Доля обращений граждан от общего количества обращений граждан, обрабатываемых "
            "посредством голосового или текстового каналов без участия оператора",
            "%",
            ["30", "40", "50"],
            [30, 40, 50],
            "higher_is_better",
        ),
        (
            "10.2.2",
            " Число посещений библиотек\n\n тыс. ед.\n 5 766 6 291 7 339\n",
            "10.2",
            "Комитет по культуре и туризму Ленинградской области",
            "Число посещений библиотек",
            "тыс. ед.",
            ["5 766", "6 291", "7 339"],
            [5766, 6291, 7339],
            "higher_is_better",
        ),
        (
            "10.3.2",
            " Число посещений музеев, театров\n\n тыс. ед.\n 1 469 1 583 1 696\n",
            "10.3",
            "Комитет по культуре и туризму Ленинградской области",
            "Число посещений музеев, театров",
            "тыс. ед.",
            ["1 469", "1 583", "1 696"],
            [1469, 1583, 1696],
            "higher_is_better",
        ),
    ],
    "nenets-ao": [
        (
            "1.1.2",
            "сервисам самостоятельной подготовки  10 15 20 ",
            "1.1",
            "Департамент образования культуры спорта Ненецкого автономного округа",
            "Доля учащихся имеющих возможность бесплатного доступа",
            "%",
            ["10", "15", "20"],
            [10, 15, 20],
            "higher_is_better",
        ),
        (
            "1.2.2",
            "ведение цифрового профиля  20 40 50 ",
            "1.2",
            "Департамент образования культуры спорта Ненецкого автономного округа",
            "Доля учащихся которым осуществляется ведение цифрового профиля",
            "%",
            ["20", "40", "50"],
            [20, 40, 50],
            "higher_is_better",
        ),
        (
            "2.1.3",
            "отчетном году тысчел 1356 1596 1643 ",
            "2.1",
            "Департамент здравоохранения труда социальной защиты населения Ненецкого автономного округа",
            "Число граждан воспользовавшихся услугами сервисам Личном кабинете пациента",
            "тысчел",
            ["1356", "1596", "1643"],
            [1356, 1596, 1643],
            "higher_is_better",
        ),
        (
            "2.2.8",
            "информационным системам шт 503 503 503 ",
            "2.2",
            "Департамент здравоохранения труда социальной защиты населения Ненецкого автономного округа",
            "Количество автоматизированных рабочих мест подключенных медицинским",
            "шт",
            ["503", "503", "503"],
            [503, 503, 503],
            "higher_is_better",
        ),
        (
            "2.3.6",
            "дистанционный мониторинг    10 121 состояния здоровья",
            "2.3",
            "Департамент здравоохранения труда социальной защиты населения Ненецкого автономного округа",
            "Доля граждан находящихся диспансерном наблюдении которым обеспечен дистанционный",
            "%",
            [None, None, "10"],
            [None, None, 10],
            "higher_is_better",
        ),
        (
            "3.6.1",
            "нарастающи шт 19 19 19 ",
            "3.6",
            "Департамент строительства жилищно коммунального хозяйства энергетики транспорта "
            "Ненецкого автономного округа",
            "Количество стационарных камер фото видеофиксации",
            "шт",
            ["19", "19", "19"],
            [19, 19, 19],
            "higher_is_better",
        ),
        (
            "5.4.1",
            "платформы сервисов шт 50 70 80 129 массовых коммуникаций",
            "5.4",
            "Департамент цифрового развития связи массовых коммуникаций Ненецкого автономного округа",
            "Количество реализованных базе единой платформы сервисов обеспечения функций",
            "шт",
            ["50", "70", "80"],
            [50, 70, 80],
            "higher_is_better",
        ),
        (
            "6.2.2",
            "95 мер социальной поддержки назначаются срок превышающий рабочих дней   95 95 95 сведений",
            "6.2",
            "Департамент здравоохранения труда социальной защиты населения Ненецкого автономного округа",
            "95 мер социальной поддержки назначаются срок превышающий рабочих дней",
            "%",
            [None, "95", "95"],
            [None, 95, 95],
            "higher_is_better",
        ),
        (
            "5.6.6",
            "государственных услуг  12 17 21 ",
            "5.6",
            "Департамент цифрового развития связи массовых коммуникаций Ненецкого автономного округа",
            "Сокращение регламентного времени предоставления государственных муниципальных услуг раза",
            None,
            ["12", "17", "21"],
            [12, 17, 21],
            "higher_is_better",
        ),
        (
            "7.1.1",
            "Сокращение времени процедур получения исходноразрешительной документации     8 ",
            "7.1",
            "Департамент строительства жилищно коммунального хозяйства энергетики транспорта "
            "Ненецкого автономного округа",
            "Сокращение времени процедур получения исходноразрешительной документации",
            None,
            [None, None, None],
            [None, None, None],
            "higher_is_better",
        ),
        (
            "9.1.1",
            "приборами учета   30 70 10 Промышленность",
            "9.1",
            "Департамент строительства жилищно коммунального хозяйства энергетики транспорта "
            "Ненецкого автономного округа",
            "Обеспечение социально значимых объектов городской агломерации",
            "%",
            [None, "30", "70"],
            [None, 30, 70],
            "higher_is_better",
        ),
        (
            "11.1.1",
            "территориальной подсистемы РСЧС   20 100 141",
            "11.1",
            "Управление гражданской защиты обеспечения пожарной безопасности Ненецкого автономного округа",
            "Перевод цифровой формат информационного взаимодействия органов повседневного управления",
            "%",
            [None, "20", "100"],
            [None, 20, 100],
            "higher_is_better",
        ),
    ],
}


@cache
def load(slug: str) -> dict[str, Any]:
    text = (ROOT / "data" / "strategies" / f"{slug}.yaml").read_text(encoding="utf-8")
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def per_sector(records: list[dict[str, Any]], sector_of: Any) -> list[int]:
    counts: dict[int, int] = {}
    for record in records:
        counts[sector_of(record)] = counts.get(sector_of(record), 0) + 1
    return [counts[sector] for sector in sorted(counts)]


@pytest.mark.parametrize("slug", sorted(SOURCES))
def test_projects_per_sector(slug: str) -> None:
    data = load(slug)
    assert per_sector(data["projects"], lambda project: project["sector"]) == PROJECTS[slug]


@pytest.mark.parametrize("slug", sorted(SOURCES))
def test_indicators_per_sector(slug: str) -> None:
    data = load(slug)
    counted = per_sector(
        data["indicators"], lambda indicator: int(indicator["project"].split(".")[0])
    )
    assert counted == INDICATORS[slug]


@pytest.mark.parametrize("slug", sorted(SOURCES))
def test_sectors_and_departments(slug: str) -> None:
    data = load(slug)
    assert [sector["name"] for sector in data["sectors"]] == SECTORS[slug]
    assert len(data["departments"]) == DEPARTMENTS[slug]
    used = {indicator["department"] for indicator in data["indicators"]}
    assert used == {department["id"] for department in data["departments"]}


@pytest.mark.parametrize(
    ("slug", "sample"),
    [(slug, sample) for slug, samples in INDICATOR_SAMPLES.items() for sample in samples],
    ids=lambda value: value if isinstance(value, str) else value[0],
)
def test_indicator_sample(slug: str, sample: tuple[Any, ...]) -> None:
    identifier, excerpt, project, department, name, unit, printed, values, direction = sample
    assert excerpt in SOURCES[slug].read_text(encoding="utf-8"), "the sample is not from the text"
    data = load(slug)
    indicator = next(item for item in data["indicators"] if item["id"] == identifier)
    departments = {item["id"]: item["name"] for item in data["departments"]}
    assert indicator["project"] == project
    assert departments[indicator["department"]] == department
    assert indicator["name"].startswith(name)
    assert indicator["unit"] == unit
    assert [target["printed"] for target in indicator["targets"]] == printed
    assert [target["value"] for target in indicator["targets"]] == values
    assert [target["year"] for target in indicator["targets"]] == [2022, 2023, 2024]
    assert indicator["direction"] == direction


def test_leningrad_results_of_the_card() -> None:
    results = {result["number"]: result for result in load("leningrad-oblast")["results"]}
    assert sorted(results) == [2, 3, 6, 7, 9, 10]
    downtime = results[10]
    assert downtime["text"].startswith("Не более 24 часов - средний срок простоя")
    assert (downtime["value"], downtime["bound"], downtime["unit"]) == (24, "max", "ч")
    assert downtime["direction"] == "lower_is_better"
    assert (results[2]["value"], results[2]["bound"]) == (40, "min")


def test_leningrad_project_sample() -> None:
    projects = {project["id"]: project for project in load("leningrad-oblast")["projects"]}
    parent = projects["1.4"]
    assert parent["name"] == "Цифровой помощник родителя"
    assert parent["federal_recommended"] is True
    assert parent["timeline"] == "До 2030 года"
    assert [(m["year"], m["due"]) for m in parent["milestones"]] == [
        (2021, "2021-12-31"),
        (2024, "2024-12-31"),
        (2030, "2030-12-31"),
    ]
    assert parent["milestones"][0]["title"] == "создан автоматизированный сервис записи в школу"
    assert parent["department"] == "obshchego-professionalnogo-obrazovaniya"
    roads = projects["4.1"]
    assert roads["federal_recommended"] is False
    assert roads["financing"] == (
        "Проект реализуется за счёт средств регионального бюджета и (или) внебюджетных источников"
    )
    assert roads["region_role"] == "Регион - исполнитель проекта"
    assert roads["beneficiaries"][0] == "Жители регионов"
    # Marked «(рекомендовано ФОИВ)» in section 6 though not in section 7.
    assert projects["2.9"]["federal_recommended"] is True


def test_nenets_project_sample() -> None:
    projects = {project["id"]: project for project in load("nenets-ao")["projects"]}
    student = projects["1.4"]
    assert student["name"] == "Цифровой помощник ученика"
    assert student["federal_recommended"] is True
    assert student["goal"] == (
        "Обеспечение школьникам возможности управления образовательной траекторией "
        "соответствии уровнем подготовки интересами"
    )
    assert [m["year"] for m in student["milestones"]] == [2021, 2024, 2030]
    assert student["tasks"][1] == "Развитие онлайнобучения"
    energy = projects["9.1"]
    assert energy["name"] == "Внедрение системы «Энергоменеджмент»"
    assert energy["federal_recommended"] is False
