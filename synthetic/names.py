"""British name frequency lists (very common names are common) and the nickname table."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

# Approximate relative frequencies across today's adult and child population of a Scottish
# council (NRS/ONS popular-name tables over several birth cohorts, rounded). The tail comes
# from Faker's en_GB lists at a low uniform weight.
_MALE = """John 30,David 30,James 28,Robert 18,William 14,Thomas 12,Andrew 20,Michael 18,Paul 16,
Mark 14,Stephen 14,Christopher 12,Daniel 12,Scott 10,Ryan 10,Craig 9,Steven 9,Alexander 9,Jack 10,
Lewis 8,Ian 9,Peter 8,George 7,Richard 7,Kevin 7,Gary 7,Brian 7,Alan 7,Kenneth 5,Douglas 5,Gordon 5,
Colin 5,Graham 5,Stuart 6,Ross 6,Jamie 6,Liam 6,Callum 6,Kyle 5,Matthew 6,Adam 5,Josh 3,Joshua 5,Dylan 4,
Aaron 4,Noah 4,Oliver 5,Harry 4,Charlie 4,Leo 4,Finlay 4,Logan 3,Archie 4,Rory 4,Euan 4,Fraser 3,
Hugh 3,Angus 3,Neil 5,Derek 4,Barry 3,Martin 5,Anthony 5,Joseph 5,Francis 3,Patrick 4,Sean 4,Samuel 4,
Benjamin 4,Nathan 4,Connor 4,Calum 3,Grant 3,Keith 4,Malcolm 3,Iain 4,Alistair 3,Duncan 3,Frederick 2,
Edward 3,Henry 3,Arthur 2,Albert 2,Charles 4,Jacob 3,Ethan 3,Alfie 2,Lucas 3"""
_FEMALE = """Margaret 20,Mary 18,Elizabeth 16,Catherine 12,Sarah 16,Emma 14,Laura 12,Lisa 10,Karen 12,
Susan 12,Fiona 10,Gillian 8,Claire 10,Nicola 10,Lorraine 7,Janet 8,Anne 10,Patricia 8,Christine 9,
Elaine 7,Linda 8,Jacqueline 6,Julie 8,Michelle 9,Angela 7,Helen 9,Jennifer 8,Rebecca 7,Amy 8,Rachel 7,
Lauren 7,Hannah 6,Jessica 6,Emily 7,Sophie 7,Chloe 6,Olivia 6,Isla 6,Ava 5,Amelia 5,Grace 6,Ellie 5,
Lucy 6,Katie 5,Megan 5,Erin 5,Eilidh 4,Kirsty 5,Louise 7,Heather 5,Shona 4,Morag 3,Isobel 4,Jean 6,
Agnes 3,Irene 4,Joan 4,Sheila 4,Moira 3,Alison 7,Joanne 6,Donna 5,Dawn 4,Victoria 5,Charlotte 5,
Caitlin 4,Freya 4,Lily 4,Mia 4,Ruby 3,Evie 3,Jane 6,Barbara 5,Dorothy 3,Rose 3,Frances 3,Valerie 3,
Carol 5,Deborah 4,Tracy 4,Samantha 5,Natalie 4,Kelly 4,Gemma 5,Stephanie 4,Victoria 3,Katherine 4,
Caroline 4,Ann 5,Janice 3,Maureen 4,Eleanor 3,Abigail 3"""
# Scotland's most frequent surnames (NRS), rounded per 10,000; Mac/Mc forms kept distinct as in life.
_SURNAMES = """Smith 130,Brown 95,Wilson 90,Campbell 80,Stewart 80,Thomson 75,Robertson 75,Anderson 70,
MacDonald 60,McDonald 35,Scott 60,Reid 58,Murray 55,Taylor 52,Clark 50,Mitchell 45,Ross 45,Walker 44,
Paterson 42,Young 42,Watson 42,Morrison 40,Miller 40,Fraser 40,Davidson 38,Gray 38,McLean 35,
MacLean 15,Henderson 35,Johnston 34,Hamilton 33,Graham 33,Kerr 32,Simpson 32,Martin 31,Ferguson 31,
Cameron 30,Duncan 29,Hunter 29,Kelly 29,Bell 28,Grant 28,MacKenzie 20,McKenzie 20,Mackay 18,McKay 12,
Allan 26,Black 26,MacLeod 20,McLeod 10,Russell 25,Gibson 25,Wallace 24,Gordon 24,Marshall 23,
Stevenson 23,Wood 22,Sutherland 22,Craig 22,Wright 22,Kennedy 21,Jones 21,Burns 21,White 21,Muir 20,
Murphy 20,Johnstone 20,Hughes 19,Watt 19,McMillan 18,MacMillan 8,McIntyre 18,Milne 18,Munro 18,
Ritchie 17,Dickson 17,Bruce 17,King 17,Crawford 17,Docherty 16,Millar 16,Cunningham 16,Sinclair 16,
Williamson 16,Hill 15,McGregor 15,MacGregor 8,Boyle 14,Shaw 14,Fleming 14,Moore 14,Christie 14,
Douglas 14,Donaldson 13,Alexander 13,Forbes 13,McIntosh 13,Mackintosh 7,Lindsay 13,O'Neill 12,
O'Donnell 9,McGuire 9,Quinn 9,Doyle 8,Rennie 8,Baxter 8,McPherson 9,MacPherson 6,Barr 7,Lamont 7,
Hay 9,Turner 9,Jackson 10,Thompson 12,Robinson 10,Roberts 9,Evans 9,Davies 9,Williams 14,Green 9,
Hall 9,Wood-Ward 1,Smith-Jones 1,Ahmed 8,Khan 9,Ali 8,Singh 6,Nowak 4,Kowalski 3"""


def _parse(table: str) -> tuple[np.ndarray, np.ndarray]:
    names, weights = [], []
    for item in table.replace("\n", "").split(","):
        name, weight = item.strip().rsplit(" ", 1)
        if name not in names:
            names.append(name)
            weights.append(float(weight))
    return np.array(names, dtype=object), np.array(weights)


def _with_tail(table: str, tail: tuple[str, ...] | list[str], tail_weight: float) -> tuple[np.ndarray, np.ndarray]:
    names, weights = _parse(table)
    known = set(names)
    extra = sorted(n for n in tail if n not in known and n.isalpha())
    names = np.concatenate([names, np.array(extra, dtype=object)])
    weights = np.concatenate([weights, np.full(len(extra), tail_weight)])
    return names, weights / weights.sum()


@lru_cache(maxsize=1)
def name_tables() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{"male" | "female" | "surname": (names, probabilities)}``, heads weighted to real frequencies."""
    from faker.providers.person.en_GB import Provider

    return {
        "male": _with_tail(_MALE, Provider.first_names_male, 0.8),
        "female": _with_tail(_FEMALE, Provider.first_names_female, 0.8),
        "surname": _with_tail(_SURNAMES, list(Provider.last_names), 1.2),
    }


@lru_cache(maxsize=1)
def nickname_table() -> dict[str, tuple[str, ...]]:
    """Nicknames by upper-case formal first name, from the maintained ``nicknames`` package.

    Only nicknames that map back to the formal name are kept, so "Bob" for Robert but not
    a name that merely shares a diminutive.
    """
    from nicknames import NickNamer

    namer = NickNamer()
    tables = name_tables()
    out: dict[str, tuple[str, ...]] = {}
    for sex in ("male", "female"):
        for name in tables[sex][0][:120]:
            nicks = sorted(
                n for n in namer.nicknames_of(name.lower()) if 2 < len(n) < len(name) + 2 and name.lower() in namer.canonicals_of(n)
            )
            if nicks:
                out[name.upper()] = tuple(n.upper() for n in nicks)
    return out


TITLES_MALE = np.array(["MR"] * 60 + ["DR"] * 2 + ["REV"], dtype=object)
TITLES_FEMALE_MARRIED = np.array(["MRS"] * 40 + ["MS"] * 15 + ["DR"], dtype=object)
TITLES_FEMALE_SINGLE = np.array(["MISS"] * 20 + ["MS"] * 30 + ["DR"], dtype=object)
