"""How synthetic requests are worded: sentence frames by register, openers, closers, questions.

Every list is split in two: ``train`` phrasings for the training file and ``eval`` phrasings that
only the held-out file uses, so evaluation measures generalization to new wording as well as to
new tools. A frame holds ``{intent}`` (a verb phrase such as "search for flights") and ``{slots}``
(the argument phrases, "from SFO to JFK on 2026-12-05"); ``{Intent}`` is the capitalized form.
"""

from __future__ import annotations

FRAMES: dict[str, dict[str, list[str]]] = {
    "train": {
        "formal": [
            "Could you please {intent} {slots}?",
            "I would like you to {intent} {slots}.",
            "Would you kindly {intent} {slots}?",
            "Please {intent} {slots}.",
            "I need to {intent} {slots}. Could you help me with that?",
            "May I ask you to {intent} {slots}?",
            "I would appreciate it if you could {intent} {slots}.",
            "Would it be possible for you to {intent} {slots}?",
            "On my behalf, please {intent} {slots}.",
            "I am writing to ask you to {intent} {slots}.",
        ],
        "casual": [
            "hey, can you {intent} {slots}?",
            "can u {intent} {slots}",
            "i wanna {intent} {slots}",
            "quick one: {intent} {slots}?",
            "yo, {intent} {slots} pls",
            "could you {intent} {slots} for me?",
            "need you to {intent} {slots}",
            "so I need to {intent} {slots}, can you do that?",
            "can you help me {intent} {slots}? thx",
            "ok so {intent} {slots}",
        ],
        "terse": [
            "{Intent} {slots}.",
            "{intent} {slots}",
            "{Intent} {slots}",
            "{Intent}, {slots}.",
            "{Intent} {slots} now.",
            "Task: {intent} {slots}.",
        ],
    },
    "eval": {
        "formal": [
            "I'm hoping you can {intent} {slots}.",
            "Is it possible to {intent} {slots}?",
            "Kindly {intent} {slots}.",
            "Might you be able to {intent} {slots}?",
            "I'd be grateful if you would {intent} {slots}.",
        ],
        "casual": [
            "help me {intent} {slots}?",
            "got a sec? {intent} {slots}",
            "any chance you could {intent} {slots}?",
            "lemme {intent} {slots} real quick",
            "hmm, {intent} {slots} maybe?",
        ],
        "terse": [
            "{Intent} {slots}, thanks.",
            "Request: {intent} {slots}",
            "{Intent} -- {slots}",
        ],
    },
}

# Optional context before the request and courtesy after it; they multiply sentence shapes.
OPENERS: dict[str, dict[str, list[str]]] = {
    "train": {
        "formal": ["", "", "", "Good morning.", "Hello.", "For a report I am preparing:", "I have a request."],
        "casual": ["", "", "", "hi!", "ok", "so,", "hey there,"],
        "terse": ["", "", "", ""],
    },
    "eval": {
        "formal": ["", "", "Greetings.", "If you don't mind:"],
        "casual": ["", "", "sup,", "alright,"],
        "terse": ["", "", ""],
    },
}
CLOSERS: dict[str, dict[str, list[str]]] = {
    "train": {
        "formal": ["", "", "", "Thank you.", "Many thanks in advance.", "I appreciate your help."],
        "casual": ["", "", "", "thanks!", "ty", "cheers"],
        "terse": ["", "", "", ""],
    },
    "eval": {
        "formal": ["", "", "Much obliged."],
        "casual": ["", "", "appreciate it!"],
        "terse": ["", ""],
    },
}

# Slot phrasing for parameters that carry no hints (a user's own tools).
GENERIC_SLOTS = ["with {name} {value}", "{name}: {value}", "where {name} is {value}", "using {value} as the {name}", "for {name} {value}"]

# Clarifying questions for parameters without a hand-written one.
GENERIC_ASKS: dict[str, list[str]] = {
    "train": [
        "Could you tell me the {name}?",
        "What {name} should I use?",
        "Which {name} would you like?",
        "I need the {name} to do that. What is it?",
        "Sure, what is the {name}?",
        "Happy to help. Could you provide the {name}?",
    ],
    "eval": [
        "Can you let me know the {name}?",
        "What's the {name} you have in mind?",
        "Before I do that, which {name} do you want?",
    ],
}
# Lead-ins that sometimes precede a catalog's own clarifying question.
ASK_LEADS = {"train": ["", "", "", "Sure! ", "I can help with that. ", "Happy to help. "], "eval": ["", "", "Of course. ", "Glad to. "]}

# How a refusal-worthy request is dressed in each register.
REFUSE_WRAPS = {
    "train": {"formal": ["{text}", "Please assist: {text}", "{text} Thank you."], "casual": ["{text}", "hey, {text}", "{text} lol"], "terse": ["{text}"]},
    "eval": {"formal": ["{text}", "I'd like your help. {text}"], "casual": ["{text}", "ok so {text}"], "terse": ["{text}"]},
}

# An optional value said in passing, after the request ("{}" is its slot phrase).
ASIDES = {
    "train": ["Oh, and {}.", "({} if possible)", "Also {}.", "Ideally {}.", "- {} please", "btw {}"],
    "eval": ["By the way, {}.", "{} would be nice.", "and {} if you can"],
}

# Between two requests in one message (a parallel call): eval's are never trained on.
JOINERS = {"train": ["Also,", "And", "Then", "After that,", "And also"], "eval": ["Plus,", "On top of that,", "While you're at it,"]}
# A later user turn that gives the value the assistant asked for ("{}": its slot phrase).
FOLLOW_UPS = {"train": ["{}", "Oh, {}.", "Sorry, {}.", "{} please.", "Right, {}."], "eval": ["Ah yes, {}.", "My bad: {}.", "Make that {}."]}

# Harmless personal background told before a request that is not harmful (`--backstories`): the
# people and troubles harmful requests mention (an ex, a neighbour, a boss, a hospital stay), so the
# model learns to refuse what a request is for, not who it names. No line states a value a tool
# could take: no number, date, time, place, amount, name or person the request is for (tests/data
# check with the reading code); `tell_backstories` passes over a line that shares a word with an enum.
BACKSTORIES = [
    "My grandmother passed away recently and I'm sorting out her things.",
    "My ex and I share custody, so I'm handling this one.",
    "My neighbour is away and I'm feeding her cat.",
    "My coworker is out sick, so I'm covering for him.",
    "I'm helping my dad, he just got out of the hospital.",
    "My sister is going through a divorce and I'm helping her get organized.",
    "My husband usually does this but he's travelling.",
    "Our dog just had surgery, so everything is a bit chaotic.",
    "My roommate moved out and left me with all of this.",
    "I'm handling things for my late uncle's estate.",
    "My therapist says I should stop putting things off, so here goes.",
    "I got laid off, so I'm trying to stay on top of things.",
    "My partner and I just broke up and I'm dealing with the practical stuff.",
    "My landlord keeps ignoring me, so I'm doing things myself.",
    "My brother is deployed overseas and I'm looking after his affairs.",
    "We just had a baby, so I'm barely sleeping.",
    "I look after my father, he can't manage this anymore.",
    "I've been stuck at home after an injury.",
    "My old boss gave me a terrible reference, so I'm starting fresh.",
    "A friend of mine got scammed recently, so I'm being careful.",
    "My neighbours are loud, but whatever, I just need this done.",
    "My mother-in-law is staying with us and I want everything sorted.",
    "Sorry if this is messy, I'm grieving a bit.",
    "My doctor told me to rest, so I'm not going anywhere.",
    "I'm recovering from an operation and can't get around much.",
    "I'm helping a coworker who is still learning English.",
    "My boss is driving me crazy, but this one's for me.",
    "My son got into trouble at school, so it's been a rough stretch.",
    "I'm the executor of my aunt's will, so this falls to me.",
    "My girlfriend's parents are visiting and I'm trying to impress them.",
    "Long story, but my ex took the car.",
    "My nephew is staying with us and I'm in charge.",
    "I'm on medication that makes me forgetful, so I'm writing everything down.",
    "Our team lead quit, so I'm picking up the pieces.",
]
