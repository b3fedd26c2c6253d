//! The words the context rules key on, folded as `text::tokens` leaves them, per language mixed:
//! data, kept apart from the rules so that each list reads as one block.

/// Words that say yes to a question (folded), in any of the three languages.
#[rustfmt::skip]
pub(super) const YES: &[&str] = &[
    "si", "sii", "sip", "yes", "yeah", "yep", "yup", "yea", "sure", "ok", "okay", "okey", "oki",
    "vale", "dale", "claro", "perfecto", "perfect", "perfeito", "perfeita", "great", "genial",
    "sim", "pode", "podes", "fechado", "bora", "beleza", "combinado", "adelante", "confirmo",
    "confirm", "confirmed", "confirmar", "confirma", "confirmado", "correcto", "correct", "certo",
    "otimo", "excelente", "excellent", "estupendo", "lovely", "awesome", "fine", "deal", "hecho",
    "listo", "venga", "isso", "exato", "exacto", "absolutely", "definitely", "obvio", "blz",
    "fantastico", "maravilha", "boa", "bien", "buenisimo", "good", "nice", "cool", "fechou",
    "joia", "massa", "siga", "👍",
];

/// Verbs that, right after a confirmation question, carry it out ("book it", "resérvala").
#[rustfmt::skip]
pub(super) const DO_IT: &[&str] = &[
    "book", "reserve", "reservar", "reserva", "reservala", "reservalo", "reservamela",
    "reservamelo", "reservame", "reservem", "reservamos", "reservo", "reserve-me", "reservar",
    "fazer", "faz", "faca", "faça", "proceed", "procede", "proceda", "avance", "avanca", "apply",
    "aplica", "change", "cambia", "cambiala", "cambialo", "altera", "alterar", "altere", "mudar",
    "muda", "mude",
];

/// Verbs of cancelling, a yes only when the question was "cancel it?".
#[rustfmt::skip]
pub(super) const CANCEL_IT: &[&str] = &[
    "cancel", "cancela", "cancelala", "cancelalo", "cancelar", "cancele", "cancelem", "cancelo",
];

/// Words that say no when they open the message or stand alone (Portuguese "no" is "in the").
#[rustfmt::skip]
pub(super) const NO: &[&str] = &[
    "nope", "nah", "nao", "nop", "nops", "negativo", "negative", "nunca", "never", "nem",
];

/// Phrases that say no wherever they are.
#[rustfmt::skip]
pub(super) const NO_PHRASES: &[&str] = &[
    "mejor no", "better not", "not now", "deixa estar", "deixa para la", "dejalo", "dejalo asi",
    "olvidalo", "forget it", "never mind", "nevermind", "no thanks", "no gracias", "nao obrigado",
    "nao obrigada", "don't", "dont", "do not", "not that", "i'll pass", "ainda nao", "todavia no",
    "not yet",
    "as it is", "como esta", "como ta", "como estava", "como estaba", "deixa quieto",
    "deixe ficar", "keep it as", "leave the booking", "mantem", "mantenla", "dejala asi",
    "on reflection no", "pensandolo bien no", "pensando bem nao",
];

/// Phrases with a "no" in them that say yes.
#[rustfmt::skip]
pub(super) const YES_PHRASES: &[&str] = &[
    "go ahead", "do it", "sounds good", "of course", "why not", "por que no", "porque no",
    "no problem", "sin problema", "no hay problema", "sem problema", "por supuesto", "com certeza",
    "pode ser", "esta bien", "esta bem", "ta bom", "let's do", "lets do", "go for it", "let's go",
    "lets go", "vamos a ello", "manos a la obra", "ja esta", "sounds like a plan",
    "lock it in", "de una", "manda bala", "toca a andar",
];

/// Words that only thank or take leave ("thx!", "obrigadinho", "gracias, hasta luego").
#[rustfmt::skip]
pub(super) const CLOSING: &[&str] = &[
    "gracias", "graciass", "grax", "thanks", "thank", "thx", "ty", "tks", "tnx", "cheers",
    "obrigado", "obrigada", "obrigadinho", "obrigadinha", "obg", "brigado", "brigada", "vlw",
    "valeu", "bye", "byebye", "adios", "chao", "chau", "tchau", "ciao", "hasta", "luego", "pronto",
    "ate", "logo", "breve", "see", "ya", "later", "soon", "muchas", "mil", "muito", "very", "much",
    "you", "u", "so", "tan", "amable", "kind", "de", "nada", "buenas", "noches", "boa", "noite",
    "good", "night", "bom", "dia", "fim", "semana", "ok", "okay", "vale", "perfecto", "perfect",
    "perfeito", "genial", "great", "beleza", "listo", "todo", "tudo", "all", "set", "that's", "it",
    "eso", "es", "isso", "e", "y", "and", "por", "tudo", "mais", "un", "um", "saludo", "saludos",
    "abrazo", "abraco", "beso", "besos", "bjs", "beijo", "blz", "tmj", "vlw", "ta", "mate",
    "obrigadissimo", "obrigadissima", "agradecido", "agradecida", "muchisimas", "grato", "grata",
    "brigadao", "brigadona", "obrigadao", "🙏", "😊",
];

#[rustfmt::skip]
pub(super) const THANKS_OR_BYE: &[&str] = &[
    "gracias", "graciass", "grax", "thanks", "thank", "thx", "ty", "tks", "tnx", "cheers",
    "obrigado", "obrigada", "obrigadinho", "obrigadinha", "obg", "brigado", "brigada", "vlw",
    "valeu", "bye", "byebye", "adios", "chao", "chau", "tchau", "ciao", "obrigadissimo",
    "obrigadissima", "agradecido", "agradecida", "muchisimas", "grato", "grata", "brigadao",
    "brigadona", "obrigadao",
];

/// Thanks in more than one word, where the words alone say something else ("ta bom" is "ok").
#[rustfmt::skip]
pub(super) const THANKS_PHRASES: &[&str] = &["ta very much", "ta muchly", "cheers mate", "many thanks"];

/// Verbs and phrases of changing a booking that exists.
#[rustfmt::skip]
pub(super) const CHANGING: &[&str] = &[
    "change", "changing", "cambiar", "cambio", "cambia", "modificar", "modifica", "modify",
    "alterar", "altera", "alteracao", "mudar", "muda", "trocar", "troca", "mover", "move", "switch",
    "add", "anadir", "agregar", "adicionar", "extend", "extender", "estender", "prolongar",
    "shorten", "postpone", "aplazar", "adiar", "adelantar", "antecipar", "update", "actualizar",
    "atualizar", "instead", "vez", "afinal", "actually", "cambiarlo", "cambiarla", "cambiarme",
    "modificarla", "modificarlo", "alterarla", "alterala", "mudala", "incluir", "acrescentar",
    "aumentar", "push", "shift", "atrasar", "retrasar", "postergar", "adelantarla",
];

/// Who travels with the guest when they say "my wife and I".
#[rustfmt::skip]
pub(super) const PARTNERS: &[&str] = &[
    "chico", "chica", "nene", "nena", "marida",
    "mujer", "esposa", "esposo", "marido", "pareja", "novia", "novio", "wife", "husband", "partner",
    "girlfriend", "boyfriend", "mulher", "namorada", "namorado", "companheira", "companheiro",
    "mae", "madre", "mother", "mom", "mum", "pai", "padre", "father", "dad", "amiga", "amigo",
    "friend", "hermana", "hermano", "sister", "brother", "irma", "irmao", "hijo", "hija", "son",
    "daughter", "filho", "filha",
];

/// Words that name a booking, after a possessive: "mi reserva", "my booking".
#[rustfmt::skip]
pub(super) const BOOKING_WORDS: &[&str] = &[
    "reserva", "reservas", "booking", "bookings", "reservation", "reservations",
];

/// Verbs of cancelling a booking ("anula la reserva 95016624").
#[rustfmt::skip]
pub(super) const CANCELLING: &[&str] = &[
    "cancel", "cancelar", "cancela", "cancelala", "cancele", "cancelem", "anular", "anula",
    "anulala", "anule", "anulem", "anulen", "anulenla", "desmarcar", "desmarca",
];

/// Verbs of putting the guest through to someone ("páseme con", "falar com").
#[rustfmt::skip]
pub(super) const REACH: &[&str] = &[
    "paseme", "pasame", "pasarme", "pasas", "pasa", "passa", "passe", "passar", "transfer",
    "transferir", "hablar", "falar", "speak", "talk", "contactar", "contact", "llamar", "ligar",
    "atender", "atenda", "comunicar", "ring", "call", "phone", "telefonear", "telefonar",
];

/// Who a guest asks to be put through to.
#[rustfmt::skip]
pub(super) const PEOPLE: &[&str] = &[
    "alguien", "alguem", "someone", "somebody", "persona", "pessoa", "person", "human", "humano",
    "staff", "recepcion", "rececao", "recepcao", "reception", "equipo", "equipa", "equipe",
    "atendente", "agente", "agent", "gerente", "manager", "encargado", "recepcionista",
    "rececionista",
];
